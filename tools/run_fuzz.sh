#!/usr/bin/env bash
# Builds the TaskService fuzz target with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (clang-14, `--config=fuzz`) and fuzzes it for a
# bounded time, starting from the seed corpus and the crash regressions.
#
# Usage: tools/run_fuzz.sh [SECONDS] [extra libFuzzer flags...]   (default 60)
#
# The build has a Bazel output base of its own ($TASKS_FUZZ_OUTPUT_BASE,
# default ~/.cache/bazel/tasks_fuzz): switching the main output base between
# gcc and clang would re-configure the toolchain and rebuild everything each
# time. Inputs the fuzzer finds are kept in $TASKS_FUZZ_DIR (default
# /tmp/tasks_fuzz)/corpus for the next run; a crash is written to
# $TASKS_FUZZ_DIR/artifacts and the script exits non-zero. To keep a crash as
# a regression test: copy it to fuzz/regressions/task_service/, fix the bug,
# and `bazel test //fuzz:task_service_fuzz_replay_test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-60}"
shift || true
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS] [libFuzzer flags...]" >&2; exit 2 ;;
esac

tools/install_deps.sh

output_base="${TASKS_FUZZ_OUTPUT_BASE:-$HOME/.cache/bazel/tasks_fuzz}"
work="${TASKS_FUZZ_DIR:-/tmp/tasks_fuzz}"
mkdir -p "$work/corpus" "$work/artifacts"

# That server is only needed for a moment: it exits after 5 idle minutes.
bazel_fuzz() { bazel --output_base="$output_base" --max_idle_secs=300 "$@"; }
# No bazel-* symlinks: the workspace's must keep pointing at the main output base.
bazel_fuzz build --config=fuzz --symlink_prefix=/ //fuzz:task_service_fuzzer </dev/null
fuzzer="$(bazel_fuzz info --config=fuzz bazel-bin </dev/null)/fuzz/task_service_fuzzer"

echo "run_fuzz: fuzzing for ${seconds}s; corpus $work/corpus, crashes in $work/artifacts" >&2
status=0
# Leaks are checked (ASan's LeakSanitizer); -timeout catches hangs; the RSS
# limit catches runaway memory. New inputs go to the first directory only.
ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  "$fuzzer" \
  -max_total_time="$seconds" \
  -timeout=25 \
  -rss_limit_mb=2048 \
  -max_len=4096 \
  -dict=fuzz/task_service.dict \
  -artifact_prefix="$work/artifacts/" \
  -print_final_stats=1 \
  "$@" \
  "$work/corpus" fuzz/corpus/task_service fuzz/regressions/task_service \
  || status=$?

if [ "$status" -ne 0 ]; then
  echo "run_fuzz: the fuzzer stopped with status $status; crash inputs:" >&2
  ls -l "$work/artifacts" >&2 || true
  exit "$status"
fi
echo "run_fuzz: no crash in ${seconds}s" >&2

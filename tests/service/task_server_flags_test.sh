#!/usr/bin/env bash
# The task_server binary's command line: bad flags exit 2 with a message on
# stderr, --help exits 0, and a port already in use fails with a clear message.
set -uo pipefail

server="${1:?usage: task_server_flags_test.sh SERVER_BINARY}"
# fail, expect_exit, finish_checks.
source tests/testing/shell_assertions.sh || exit 1

expect_exit 2 "unknown flag --no_such_flag" --no_such_flag=1
expect_exit 2 "pool_size" --pool_size=many
expect_exit 2 "max_request_deadline" --max_request_deadline=soon
expect_exit 2 "log_level" --log_level=loud
expect_exit 2 "--max_threads must be at least 2" --max_threads=1
expect_exit 2 "--completion_queues must not be negative" --completion_queues=-1
expect_exit 2 "--max_health_watches must be at least 1" --max_health_watches=0
expect_exit 2 "--drain_timeout must not be negative" --drain_timeout=-1s
expect_exit 2 "--health_probe_timeout must be positive" --health_probe_timeout=0s
expect_exit 2 "unexpected argument" stray

help="$("$server" --help)" || fail "--help exited $?"
for flag in --listen --db --pool_size --max_threads --completion_queues \
    --max_request_deadline --max_health_watches \
    --drain_timeout --health_probe_interval --health_probe_timeout \
    --log_level; do
  [[ "$help" == *"$flag"* ]] || fail "--help does not list $flag"
done

# A second server on a port in use must not start.
port=$((20000 + RANDOM % 20000))
"$server" --db=:memory: --listen="127.0.0.1:$port" 2>"$TEST_TMPDIR/first.log" &
first=$!
for _ in $(seq 50); do
  grep -q "listening on" "$TEST_TMPDIR/first.log" && break
  sleep 0.1
done
if grep -q "listening on" "$TEST_TMPDIR/first.log"; then
  expect_exit 1 "cannot listen on" --db=:memory: --listen="127.0.0.1:$port"
else
  fail "first server did not start: $(cat "$TEST_TMPDIR/first.log")"
fi
kill -TERM "$first"
wait "$first"
status=$?
[ "$status" -eq 0 ] || fail "server exited $status after SIGTERM, want 0"

finish_checks "task_server flag"

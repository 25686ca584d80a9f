#!/usr/bin/env bash
# The API gate (tools/api_gate.sh) passes on the API as it is, and fails on
# copies of it changed the ways that break clients: a renumbered field, a
# removed method, and (lint) a message name that is not PascalCase.
set -uo pipefail

gate="${1:?usage: api_gate_test.sh API_GATE_SCRIPT}"
# fail, finish_checks.
source tests/testing/shell_assertions.sh || exit 1
export BUF_CACHE_DIR="$TEST_TMPDIR/buf_cache"

# tree NAME: a writable copy of the API under $TEST_TMPDIR/NAME.
tree() {
  local dir="$TEST_TMPDIR/$1"
  mkdir -p "$dir/api"
  cp -rL buf.yaml proto "$dir/"
  cp -L api/released.json "$dir/api/"
  echo "$dir"
}

# expect_gate WANT WHAT DIR [TEXT]: runs the gate on DIR; WANT is pass or
# fail; a failure's output must contain TEXT.
expect_gate() {
  local want="$1" what="$2" dir="$3" text="${4:-}"
  local out status=0
  out="$("$gate" "$dir" 2>&1)" || status=$?
  echo "FIGURE api_gate_test: $what: exit $status"
  echo "$out" | sed 's/^/  | /'
  if [ "$want" = pass ]; then
    [ "$status" -eq 0 ] || fail "$what: the gate failed"
  else
    [ "$status" -ne 0 ] || fail "$what: the gate passed"
    [[ "$out" == *"$text"* ]] || fail "$what: the output lacks \"$text\""
  fi
}

expect_gate pass "the API as it is" "$(tree unchanged)"

dir="$(tree renumbered)"
sed -i 's/^  string title = 3;/  string title = 30;/' "$dir/proto/tasks/v1/tasks.proto"
grep -q 'string title = 30;' "$dir/proto/tasks/v1/tasks.proto" ||
  fail "renumbered: found no 'string title = 3;' to change"
expect_gate fail "Task.title renumbered 3 -> 30" "$dir" '"title"'

dir="$(tree removed_method)"
sed -i '/rpc DeleteTask(/d' "$dir/proto/tasks/v1/tasks.proto"
expect_gate fail "DeleteTask removed" "$dir" 'DeleteTask'

dir="$(tree lint)"
printf '\n// A message.\nmessage bad_name {}\n' >>"$dir/proto/tasks/v1/tasks.proto"
expect_gate fail "a message named bad_name" "$dir" 'bad_name'

finish_checks "API gate"

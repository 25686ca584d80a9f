#!/usr/bin/env bash
# deploy/tasks.service passes `systemd-analyze verify` without a word, with its
# ExecStart pointed at the built server binary (verify checks that the command
# exists); copies with a misspelt setting or a missing binary do not.
set -uo pipefail

server="$(readlink -f "${1:?usage: systemd_unit_test.sh SERVER_BINARY UNIT}")"
unit="${2:?usage: systemd_unit_test.sh SERVER_BINARY UNIT}"
# fail, finish_checks.
source tests/testing/shell_assertions.sh || exit 1

# verify_copy NAME SED_SCRIPT: verifies a copy of the unit edited by SED_SCRIPT
# (after ExecStart is pointed at the binary); sets `status` and `out`.
verify_copy() {
  local copy="$TEST_TMPDIR/$1/tasks.service"
  mkdir -p "$(dirname "$copy")"
  sed -e "s|^ExecStart=/usr/local/bin/task_server |ExecStart=$server |" -e "$2" \
    "$unit" >"$copy"
  grep -q "^ExecStart=$server " "$copy" || grep -q "^ExecStart=/nonexistent" "$copy" ||
    fail "$1: no 'ExecStart=/usr/local/bin/task_server ' line to point at the binary"
  status=0
  out="$(systemd-analyze verify --man=no "$copy" 2>&1)" || status=$?
  echo "FIGURE systemd_unit_test: $1: exit $status, $(printf '%s' "$out" | grep -c .) line(s)"
  [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/  | /'
}

verify_copy unit ''
[ "$status" -eq 0 ] && [ -z "$out" ] || fail "deploy/tasks.service does not verify cleanly"

verify_copy misspelt 's/^Restart=on-failure/Restart=sometimes/'
[[ "$out" == *sometimes* ]] || fail "a misspelt Restart= went unnoticed"

verify_copy missing_binary "s|^ExecStart=$server |ExecStart=/nonexistent/task_server |"
[ "$status" -ne 0 ] || fail "a missing ExecStart binary went unnoticed"

finish_checks "systemd unit"

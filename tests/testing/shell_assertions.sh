# Checks shared by the shell tests of the task_server binary. Source it after
# setting `server` to the binary's path, and optionally
#   server_flags   an array of flags that expect_exit and start_server pass
#                  before their own;
#   secret         text that no stderr seen by expect_exit may contain;
#   ready_pattern  a grep pattern that start_server also waits for.
# Checks record failures and go on; end the test with finish_checks.

failures=0

# fail MESSAGE...: records a failed check.
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_exit CODE MESSAGE ARGS...: runs the server with ARGS for at most
# 20 s, checks its exit code, that stderr contains MESSAGE and that it does
# not show the secret.
expect_exit() {
  local want="$1" message="$2"
  shift 2
  local err
  err="$(timeout 20 "$server" ${server_flags[@]+"${server_flags[@]}"} "$@" \
    2>&1 >/dev/null)"
  local got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, want $want; stderr: $err"
  [[ "$err" == *"$message"* ]] || fail "$* stderr lacks \"$message\": $err"
  if [ -n "${secret:-}" ]; then
    [[ "$err" != *"$secret"* ]] || fail "$* printed the secret: $err"
  fi
}

# start_server LOG ARGS...: starts the server with ARGS in the background
# (pid in $server_pid, stderr in LOG) and waits up to 10 s for its
# "listening on" line and a line matching ready_pattern, if set.
start_server() {
  local log="$1"
  shift
  "$server" ${server_flags[@]+"${server_flags[@]}"} "$@" 2>"$log" &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$log" &&
      { [ -z "${ready_pattern:-}" ] || grep -q "$ready_pattern" "$log"; } &&
      return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "server did not start with $*: $(cat "$log")"
  return 1
}

# stop_server: SIGTERM to $server_pid; returns the server's exit status.
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid"
}

# finish_checks WHAT: exits 1 when a check failed, 0 otherwise.
finish_checks() {
  if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
  fi
  echo "all $1 checks passed"
  exit 0
}

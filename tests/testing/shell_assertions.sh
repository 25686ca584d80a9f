# Checks shared by the shell tests of the task_server binary. Source it after
# setting `server` to the binary's path, and optionally
#   server_flags  an array of flags that expect_exit passes before its own;
#   secret        text that no stderr seen by expect_exit may contain.
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

# finish_checks WHAT: exits 1 when a check failed, 0 otherwise.
finish_checks() {
  if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
  fi
  echo "all $1 checks passed"
  exit 0
}

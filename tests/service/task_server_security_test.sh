#!/usr/bin/env bash
# The task_server binary's security flags: bad TLS, token and database flags
# exit 2 with a clear message; a database password given by file, variable or
# even on the command line shows neither in the log nor in the process's
# arguments (what ps shows); TLS and token auth are announced at start.
set -uo pipefail

server="${1:?usage: task_server_security_test.sh SERVER_BINARY}"
tls="tests/testdata/tls"
tmp="${TEST_TMPDIR:?}"
password="Sup3rS3cretPw-4711"
# fail, expect_exit (never showing the password), start_server (waiting for
# "listening on" and, when the database is unreachable, the first "database
# not usable" line), stop_server, finish_checks; all run the server with
# --listen=127.0.0.1:0 --health_probe_interval=100ms.
server_flags=(--listen=127.0.0.1:0 --health_probe_interval=100ms)
secret="$password"
ready_pattern="database not usable\|health: SERVING"
source tests/testing/shell_assertions.sh || exit 1

# check_hidden WHAT LOG: neither the log nor the running server's argv
# (/proc/<pid>/cmdline, what ps shows) holds the password.
check_hidden() {
  local what="$1" log="$2" cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$server_pid/cmdline")"
  [[ "$cmdline" != *"$password"* ]] || fail "$what: password in argv: $cmdline"
  stop_server
  [[ "$(cat "$log")" != *"$password"* ]] || fail "$what: password in log: $(cat "$log")"
}

# --- The database setting: exactly one source. ---
dsn="postgresql://tasks:$password@127.0.0.1:1/tasks?connect_timeout=2"
printf '%s\n' "$dsn" >"$tmp/dsn"
expect_exit 2 "give the database once" --db=:memory: --db_file="$tmp/dsn"
expect_exit 2 "give the database once" --db_file="$tmp/dsn" --db_env=HOME
expect_exit 2 "--db_file" --db_file="$tmp/no_such_file"
expect_exit 2 "--db_env: the environment variable TASKS_UNSET_DSN" \
  --db_env=TASKS_UNSET_DSN

# --- The password stays hidden. ---
start_server "$tmp/file.log" --db_file="$tmp/dsn" &&
  check_hidden "--db_file" "$tmp/file.log"
grep -q "database: postgresql://tasks:\*\*\*@127.0.0.1:1/tasks" "$tmp/file.log" ||
  fail "--db_file: no redacted database line: $(cat "$tmp/file.log")"
grep -q "database not usable" "$tmp/file.log" ||
  fail "--db_file: the unreachable database was not reported: $(cat "$tmp/file.log")"

TASKS_DSN="$dsn" start_server "$tmp/env.log" --db_env=TASKS_DSN &&
  check_hidden "--db_env" "$tmp/env.log"

# On the command line it is masked in argv at once, with a warning.
start_server "$tmp/literal.log" --db "$dsn" && check_hidden "--db" "$tmp/literal.log"
grep -q "W .*--db holds a password" "$tmp/literal.log" ||
  fail "--db with a password: no warning: $(cat "$tmp/literal.log")"

# A connection string libpq refuses, quoting the password in its error.
printf '%s\n' "postgresql://tasks:$password%zz@127.0.0.1:1/tasks" >"$tmp/bad_dsn"
expect_exit 2 "cannot start" --db_file="$tmp/bad_dsn"
printf '%s\n' "host=127.0.0.1 port=1 password='$password" >"$tmp/bad_keywords"
expect_exit 2 "cannot start" --db_file="$tmp/bad_keywords"

# --- TLS files. ---
expect_exit 2 "--tls_cert and --tls_key go together" --db=:memory: \
  --tls_cert="$tls/server.pem"
expect_exit 2 "--tls_client_ca needs --tls_cert" --db=:memory: \
  --tls_client_ca="$tls/ca.pem"
expect_exit 2 "--tls_cert: cannot read \"$tmp/missing.pem\"" --db=:memory: \
  --tls_cert="$tmp/missing.pem" --tls_key="$tls/server.key"
expect_exit 2 "no PEM certificate" --db=:memory: \
  --tls_cert="$tls/server.key" --tls_key="$tls/server.key"
expect_exit 2 "the key does not belong to the certificate" --db=:memory: \
  --tls_cert="$tls/server.pem" --tls_key="$tls/client.key"
start_server "$tmp/tls.log" --db=:memory: --tls_cert="$tls/server.pem" \
  --tls_key="$tls/server.key" --tls_client_ca="$tls/ca.pem" && stop_server
grep -q "listening on 127.0.0.1:0 (port [0-9]*, TLS" "$tmp/tls.log" ||
  fail "TLS server did not say so: $(cat "$tmp/tls.log")"

# --- The tokens file. ---
expect_exit 2 "--auth_tokens_file: cannot read" --db=:memory: \
  --auth_tokens_file="$tmp/no_tokens"
printf '# tokens\nnot-a-valid-line-XYZ123456 alice\n' >"$tmp/bad_tokens"
expect_exit 2 "tokens file line 2: want 3 fields" --db=:memory: \
  --auth_tokens_file="$tmp/bad_tokens"
err="$("$server" --db=:memory: --auth_tokens_file="$tmp/bad_tokens" 2>&1)"
[[ "$err" != *"not-a-valid-line-XYZ123456"* ]] ||
  fail "a tokens file error quoted the token: $err"
printf 'good-token-0123456789abc admin *\n' >"$tmp/tokens"
start_server "$tmp/auth.log" --db=:memory: --auth_tokens_file="$tmp/tokens" &&
  stop_server
grep -q "bearer tokens required" "$tmp/auth.log" ||
  fail "auth server did not say so: $(cat "$tmp/auth.log")"
! grep -q "good-token-0123456789abc" "$tmp/auth.log" ||
  fail "the token was logged: $(cat "$tmp/auth.log")"

finish_checks "task_server security"

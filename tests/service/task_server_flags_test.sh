#!/usr/bin/env bash
# The task_server binary's command line: bad flags exit 2 with a message on
# stderr, --help and --version exit 0, --flagfile and --fromenv are honoured,
# and a port already in use fails with a clear message.
set -uo pipefail

server="${1:?usage: task_server_flags_test.sh SERVER_BINARY}"
# fail, expect_exit, start_server, stop_server, finish_checks.
source tests/testing/shell_assertions.sh || exit 1

expect_exit 2 "unknown flag --no_such_flag" --no_such_flag=1
expect_exit 2 "pool_size" --pool_size=many
expect_exit 2 "max_request_deadline" --max_request_deadline=soon
expect_exit 2 "log_level" --log_level=loud
expect_exit 2 "--max_threads must be at least 2" --max_threads=1
expect_exit 2 "--completion_queues must not be negative" --completion_queues=-1
expect_exit 2 "--max_health_watches must be at least 1" --max_health_watches=0
expect_exit 2 "--max_watchers and --max_watchers_per_principal must be at least 1" \
  --max_watchers_per_principal=0
expect_exit 2 "--watch_poll_interval and --watch_retention must be positive" \
  --watch_retention=0s
expect_exit 2 "--max_concurrent_lists must be at least 1" \
  --max_concurrent_lists=0
expect_exit 2 "--drain_timeout must not be negative" --drain_timeout=-1s
expect_exit 2 "--health_probe_timeout must be positive" --health_probe_timeout=0s
expect_exit 2 "unexpected argument" stray
# Database URLs mistyped: not SQLite files of those names.
expect_exit 2 \
  '--db: the connection string starts with "postgresql:" but is no PostgreSQL URL' \
  --db=postgresql:/db/tasks
expect_exit 2 \
  '--db: the connection string starts with "sqlite:": a SQLite database is named by' \
  --db=sqlite:tasks.db
expect_exit 2 "must be positive" --max_connection_idle=0s
expect_exit 2 "must be positive" --handshake_timeout=-1s
expect_exit 2 "must not be negative" --max_connection_age_grace=-1s
expect_exit 2 "must not be negative" --network_memory_mib=-1
expect_exit 2 "--max_streams_per_connection must be at least 1" \
  --max_streams_per_connection=0
expect_exit 2 "--max_unread_reply_mib must be at least 1" \
  --max_unread_reply_mib=0
expect_exit 2 "--max_unread_reply_mib must be at least 1" \
  --max_unread_reply_mib_per_connection=-3

help="$("$server" --help)" || fail "--help exited $?"
for flag in --listen --db --pool_size --max_threads --completion_queues \
    --max_request_deadline --max_health_watches --max_concurrent_lists \
    --max_watchers --max_watchers_per_principal --watch_poll_interval \
    --watch_retention \
    --max_connection_idle \
    --max_connection_age --max_connection_age_grace --handshake_timeout \
    --min_client_ping_interval --max_ping_strikes --max_streams_per_connection \
    --network_memory_mib --max_unread_reply_mib \
    --max_unread_reply_mib_per_connection --drain_timeout --health_probe_interval \
    --health_probe_timeout --log_level --flagfile; do
  [[ "$help" == *"$flag"* ]] || fail "--help does not list $flag"
done

version="$("$server" --version)" || fail "--version exited $?"
[[ "$version" =~ ^task_server\ [0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  fail "--version printed \"$version\", want \"task_server <x.y.z>\""

# Abseil's own flags are honoured or refused, never silently ignored.
expect_exit 2 "--flagfile" --flagfile="$TEST_TMPDIR/no_such_flagfile"
(
  unset FLAGS_pool_size
  expect_exit 2 "FLAGS_pool_size is not set" --fromenv=pool_size
  finish_checks "--fromenv" >/dev/null
) || fail "--fromenv without its variable"
expect_exit 2 "unknown flag --no_such_flag" --fromenv=no_such_flag
expect_exit 2 "not supported" --undefok=no_such_flag
printf -- '--pool_size=many\n' >"$TEST_TMPDIR/bad.flags"
expect_exit 2 "pool_size" --flagfile="$TEST_TMPDIR/bad.flags"

# A port below the kernel's ephemeral range, which no process's outgoing
# connection takes (a test running beside this one took 36294 once), and
# that nothing listens on.
ephemeral_low=32768
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range || true
for _ in 1 2 3 4 5 6 7 8 9 10; do
  port=$((ephemeral_low - 1 - RANDOM % 10000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done

# --flagfile: one flag a line, comments and blank lines skipped, nested files.
printf -- '# where to serve\n\n  --listen=127.0.0.1:%s\n--flagfile=%s\n' \
  "$port" "$TEST_TMPDIR/inner.flags" >"$TEST_TMPDIR/outer.flags"
printf -- '--db=:memory:\n' >"$TEST_TMPDIR/inner.flags"
if start_server "$TEST_TMPDIR/flagfile.log" --flagfile="$TEST_TMPDIR/outer.flags"; then
  grep -q "listening on 127.0.0.1:$port " "$TEST_TMPDIR/flagfile.log" ||
    fail "--flagfile: not listening on 127.0.0.1:$port: $(cat "$TEST_TMPDIR/flagfile.log")"
  grep -q "database: :memory:" "$TEST_TMPDIR/flagfile.log" ||
    fail "nested --flagfile: --db not set: $(cat "$TEST_TMPDIR/flagfile.log")"
  stop_server || fail "server exited $? after SIGTERM, want 0"
fi

# --fromenv: FLAGS_<name> from the environment.
if FLAGS_listen="127.0.0.1:$port" FLAGS_db=":memory:" start_server \
    "$TEST_TMPDIR/fromenv.log" --fromenv=listen,db; then
  grep -q "listening on 127.0.0.1:$port " "$TEST_TMPDIR/fromenv.log" ||
    fail "--fromenv: not listening on 127.0.0.1:$port: $(cat "$TEST_TMPDIR/fromenv.log")"
  stop_server || fail "server exited $? after SIGTERM, want 0"
fi

# A second server on a port in use must not start.
if start_server "$TEST_TMPDIR/first.log" --db=:memory: --listen="127.0.0.1:$port"; then
  first=$server_pid
  expect_exit 1 "cannot listen on" --db=:memory: --listen="127.0.0.1:$port"
  server_pid=$first
  stop_server || fail "server exited $? after SIGTERM, want 0"
fi

finish_checks "task_server flag"

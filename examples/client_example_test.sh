#!/usr/bin/env bash
# Runs an example client against the real server binary on a free loopback
# port with a fresh SQLite file, and compares what it prints with
# expected_output.txt (the Python and the Node client print the same).
#
# Usage: client_example_test.sh SERVER_BINARY EXPECTED_OUTPUT CLIENT_COMMAND...
# (the client gets host:port as its last argument).
set -uo pipefail

server="${1:?usage: client_example_test.sh SERVER EXPECTED CLIENT...}"
expected="$2"
shift 2
work="$TEST_TMPDIR/client_example"
mkdir -p "$work"
log="${TEST_UNDECLARED_OUTPUTS_DIR:-$work}/task_server.log"

port="$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# The clients wait (at most 30 s) for the server to be ready.
"$server" --listen="127.0.0.1:$port" --db="$work/tasks.db" >"$log" 2>&1 &
pid=$!

status=0
timeout 120 "$@" "127.0.0.1:$port" >"$work/output.txt" 2>&1 || status=$?
kill -TERM "$pid"
wait "$pid"

echo "--- the client's output (exit $status) ---"
cat "$work/output.txt"
if [ "$status" -ne 0 ] || ! diff -u "$expected" "$work/output.txt"; then
  echo "FAIL: the client exited $status or printed other than $expected" >&2
  echo "--- the server's log ---" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
echo "FIGURE client_example_test: $(wc -l <"$work/output.txt") lines as expected"

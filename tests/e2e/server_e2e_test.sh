#!/usr/bin/env bash
# Bazel entry point of the end-to-end test: finds Node.js, the client's npm
# packages and the server binary, then runs e2e_test.js.
#
# The npm packages are not Bazel inputs: tools/install_node_modules.sh (run by
# ./bazelw before every Bazel command) installs them with `npm ci` into
# tests/e2e/node_modules of the source tree, which is found here through the
# runfiles symlink of this test's own script.
set -euo pipefail

server="${1:?usage: server_e2e_test.sh SERVER_BINARY}"
script="tests/e2e/e2e_test.js"

fail() {
  echo "server_e2e_test: $*" >&2
  exit 1
}

command -v node >/dev/null || fail "node (Node.js) is not on PATH; run tools/install_deps.sh"
[ -x "$server" ] || fail "server binary $server is missing"

source_dir="$(dirname "$(readlink -f "$script")")"
node_modules="$source_dir/node_modules"
for package in @grpc/grpc-js grpc-js-reflection-client protobufjs; do
  [ -f "$node_modules/$package/package.json" ] ||
    fail "npm package $package is missing from $node_modules; run" \
         "tools/install_node_modules.sh (./bazelw runs it before every command)"
done
[ "$source_dir/package-lock.json" -nt "$node_modules/.package-lock.json" ] &&
  fail "$node_modules is older than package-lock.json; run tools/install_node_modules.sh"

work="$TEST_TMPDIR/e2e"
mkdir -p "$work"
logs="${TEST_UNDECLARED_OUTPUTS_DIR:-$work}"

NODE_PATH="$node_modules" exec node "$script" \
  --server="$server" \
  --db="$work/tasks.db" \
  --log="$logs/task_server.log" \
  ${XML_OUTPUT_FILE:+--xml="$XML_OUTPUT_FILE"}

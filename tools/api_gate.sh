#!/usr/bin/env bash
# The API gate: `buf lint` with buf.yaml's rules, then `buf breaking` against
# the last released API (api/released.json, a buf image), so that a change
# that would break existing clients fails.
#
# Usage: tools/api_gate.sh [--release] [TREE]
#   TREE       a directory holding buf.yaml, proto/ and api/ (default: this
#              repository)
#   --release  after the checks, record the current API as the released one:
#              run it when cutting a release, and commit api/released.json.
# buf is tools/buf/node_modules/.bin/buf (tools/install_node_modules.sh), or
# $BUF.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

release=0
if [ "${1:-}" = "--release" ]; then
  release=1
  shift
fi
tree="${1:-$here}"
buf="${BUF:-$here/tools/buf/node_modules/.bin/buf}"
[ -x "$buf" ] || {
  echo "api_gate: $buf is missing; run tools/install_node_modules.sh" >&2
  exit 1
}

cd "$tree"
echo "api_gate: buf lint" >&2
"$buf" lint
echo "api_gate: buf breaking --against api/released.json" >&2
"$buf" breaking --against api/released.json
if [ "$release" -eq 1 ]; then
  "$buf" build --exclude-source-info -o api/released.json
  echo "api_gate: recorded the current API in $tree/api/released.json" >&2
fi
echo "api_gate: passed" >&2

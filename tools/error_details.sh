#!/usr/bin/env bash
# Decodes the error details that `buf curl` prints. buf shows each detail of
# a failed call as its type and the message's bytes in base64: it decodes only
# types compiled into buf itself, which google.rpc.ErrorInfo and BadRequest are
# not. This passes buf's output through, then prints every detail decoded with
# the API's own .proto files (`buf convert`):
#
#   buf curl ... 2>&1 | tools/error_details.sh
#
# buf is tools/buf/node_modules/.bin/buf (tools/install_node_modules.sh), or
# $BUF.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
buf="${BUF:-$here/tools/buf/node_modules/.bin/buf}"

input="$(cat)"
printf '%s\n' "$input"
type=""
in_details=0
while IFS= read -r line; do
  case "$line" in
    '   "details": ['*) in_details=1 ;;
  esac
  [ "$in_details" -eq 1 ] || continue
  case "$line" in
    *'"type": "'*)
      type="${line#*\"type\": \"}"
      type="${type%%\"*}"
      ;;
    *'"value": "'*)
      value="${line#*\"value\": \"}"
      value="${value%%\"*}"
      # buf prints base64 without its trailing padding, which base64 -d needs.
      while [ $((${#value} % 4)) -ne 0 ]; do value+="="; done
      printf '%s: ' "$type"
      printf '%s' "$value" | base64 -d |
        "$buf" convert "$here/proto" --type "$type" --from -#format=binpb \
          --to -#format=json
      echo
      ;;
  esac
done <<<"$input"

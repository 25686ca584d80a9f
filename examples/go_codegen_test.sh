#!/usr/bin/env bash
# Go code generation from proto/ with Debian's protoc-gen-go and
# protoc-gen-go-grpc, and `go build` of the generated package offline, against
# Debian's Go modules (golang-google-grpc-dev, golang-google-protobuf-dev,
# golang-google-genproto-dev) in /usr/share/gocode, in GOPATH mode.
set -euo pipefail

gopath="$TEST_TMPDIR/gopath"
# go_package of tasks.proto is "tasks/gen/go/tasks/v1".
out="$gopath/src/tasks/gen/go"
mkdir -p "$out"

protoc -Iproto -I/usr/include \
  --go_out="$out" --go_opt=paths=source_relative \
  --go-grpc_out="$out" --go-grpc_opt=paths=source_relative \
  proto/tasks/v1/tasks.proto
ls -l "$out/tasks/v1"
grep -q 'func NewTaskServiceClient' "$out/tasks/v1/tasks_grpc.pb.go"

GO111MODULE=off GOFLAGS= GOPATH="$gopath:/usr/share/gocode" \
  GOCACHE="$TEST_TMPDIR/gocache" go build -v tasks/gen/go/tasks/v1
echo "FIGURE go_codegen_test: generated and built $(cat "$out"/tasks/v1/*.go | wc -l) lines of Go"

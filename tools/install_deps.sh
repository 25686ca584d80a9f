#!/usr/bin/env bash
# Installs the Debian packages this project builds, runs and tests with.
# Idempotent and quiet when everything is present.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-platforms pkg-config g++
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev libssl-dev
  libabsl-dev libsoci-dev libboost-dev libsqlite3-dev sqlite3 libpq-dev postgresql-15
  # PgBouncer in transaction pooling mode, in front of the test PostgreSQL.
  pgbouncer
  libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev
  python3-grpcio python3-protobuf
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  # Go code generation from proto/ and its offline build (examples/go_codegen_test).
  protoc-gen-go protoc-gen-go-grpc golang-go golang-google-grpc-dev
  golang-google-protobuf-dev golang-google-genproto-dev
  # systemd-analyze, for the checked-in unit (deploy/).
  systemd
)

# Node.js may come from the machine image rather than Debian: any node/npm will do.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "install_deps: missing Debian packages: ${missing[*]}" >&2
  echo "install_deps: run this script as root (or install sudo), or: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install_deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

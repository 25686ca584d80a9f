#!/usr/bin/env bash
# Regenerates the test-only TLS files in this directory (run it here). They
# are checked in, valid for 100 years, and protect nothing: never use them
# outside tests.
#   ca.pem                 the CA that signed server.pem and client.pem
#   server.pem/.key        CN=localhost, SAN localhost, 127.0.0.1, ::1
#   client.pem/.key        CN=test-client, for mutual TLS
#   other_ca.pem           an unrelated CA, which signed
#   other_client.pem/.key  a client certificate the server must refuse
set -euo pipefail
cd "$(dirname "$0")"
days=36500
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# make_ca NAME CN
make_ca() {
  key "$tmp/$1.key"
  openssl req -x509 -new -key "$tmp/$1.key" -subj "/CN=$2" -days "$days" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"
}

# make_leaf NAME CN CA EXTENSIONS
make_leaf() {
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$tmp/$1.csr"
  printf '%s\n' "$4" >"$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$3.pem" -CAkey "$tmp/$3.key" \
    -CAcreateserial -CAserial "$tmp/$3.srl" -days "$days" \
    -extfile "$tmp/$1.ext" -out "$1.pem"
}

make_ca ca "tasks test CA"
make_ca other_ca "unrelated test CA"
make_leaf server localhost ca \
  "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth"
make_leaf client test-client ca "extendedKeyUsage=clientAuth"
make_leaf other_client other-client other_ca "extendedKeyUsage=clientAuth"
chmod 644 ./*.key ./*.pem

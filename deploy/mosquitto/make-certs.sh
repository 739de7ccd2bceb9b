#!/usr/bin/env bash
# Creates a private CA, a broker certificate and one client certificate per name, with openssl and
# EC P-256 keys. The client certificate's common name is the MQTT username (use_identity_as_username
# in mosquitto.conf), so cars get their car id as the name and the central service gets "central".
#
# Usage: make-certs.sh OUT_DIR BROKER_HOST CLIENT_NAME...
#   BROKER_HOST is the name or IP address the clients connect to; it goes into subjectAltName.
# Existing files in OUT_DIR are overwritten. Keep ca.key offline once the certificates are issued.
set -euo pipefail

if (($# < 3)); then
  echo "usage: $0 OUT_DIR BROKER_HOST CLIENT_NAME..." >&2
  exit 2
fi
out=$1
host=$2
shift 2
days=${CERT_DAYS:-825}
mkdir -p "$out"
umask 077

if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then san="IP:$host"; else san="DNS:$host"; fi

openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$out/ca.key" \
  -out "$out/ca.crt" -days "$days" -subj "/CN=patrol fleet CA" 2>/dev/null

issue() {
  local name=$1 ext=$2
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$out/$name.key" \
    -out "$out/$name.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -out "$out/$name.crt" -days "$days" -extfile <(printf '%s\n' "$ext") 2>/dev/null
  rm -f "$out/$name.csr"
}

issue server "subjectAltName=$san
extendedKeyUsage=serverAuth"
for client in "$@"; do
  if [[ ! $client =~ ^[A-Za-z0-9_-]{1,64}$ ]]; then
    echo "client name should be 1-64 letters, digits, _ or -, instead got \"$client\"" >&2
    exit 2
  fi
  issue "$client" "extendedKeyUsage=clientAuth"
done
# The broker reads the CA and its own files; clients need ca.crt and their own pair.
chmod 644 "$out/ca.crt" "$out"/*.crt
echo "certificates written to $out"

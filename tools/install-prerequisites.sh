#!/usr/bin/env bash
# Installs the Debian packages the tests, the demo and the lab use. Idempotent; needs root.
# Services are installed, never started: the lab starts its own copies.
set -euo pipefail
PACKAGES=(
  iproute2 nftables iputils-ping procps curl ca-certificates openssl
  openssh-server openssh-client
  prometheus prometheus-alertmanager prometheus-node-exporter
  systemd
  tmux
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  # Keep package scripts from starting the services they install.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "Installed: ${missing[*]}"
fi
# The lab's stand-ins (tests/Lab/standins.js: s3rver, Grafana and MinIO health routes) run on Node.js.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "Node.js and npm are missing: sudo apt-get install -y nodejs npm" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# npm ci only when the install is missing or older than the lock file (npm ci deletes node_modules first).
if [[ -f tests/Lab/package.json ]] && { [[ ! -d tests/Lab/node_modules/s3rver ]] || [[ tests/Lab/package-lock.json -nt tests/Lab/node_modules/.package-lock.json ]]; }; then
  (cd tests/Lab && npm ci --no-audit --no-fund --loglevel=error)
fi

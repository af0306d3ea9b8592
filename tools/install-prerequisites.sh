#!/usr/bin/env bash
# Installs the Debian packages the tests, the demo and the lab use. Idempotent, and quick when everything is
# there (build.ps1 -Task Test and -Task Demo run it every time). Installing needs root: as root it installs, with
# password-less sudo it installs through sudo, otherwise it names what is missing and the command to install it
# (exit 1). Services are installed, never started: the lab starts its own copies.
set -euo pipefail
# as_root CMD...: runs CMD as root (directly, or through sudo -n); fails when neither is possible.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 126
  fi
}
can_root() { [[ $(id -u) -eq 0 ]] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; }
PACKAGES=(
  iproute2 nftables iputils-ping procps curl ca-certificates openssl
  openssh-server openssh-client
  prometheus prometheus-alertmanager prometheus-node-exporter
  systemd
  tmux
  chromium
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if ! can_root; then
    echo "Missing Debian packages: ${missing[*]} (not root and no password-less sudo: not installing)" >&2
    echo "Install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  # Keep package scripts from starting the services they install.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    as_root sh -c "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "Installed: ${missing[*]}"
fi
# The lab's stand-ins (tests/Lab/standins.js: s3rver, Grafana and MinIO health routes) run on Node.js.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if ! can_root; then
    echo "Node.js and npm are missing (not root and no password-less sudo: not installing): sudo apt-get install -y nodejs npm" >&2
    exit 1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# npm ci only when the install is missing or older than the lock file (npm ci deletes node_modules first).
if [[ -f tests/Lab/package.json ]] && { [[ ! -d tests/Lab/node_modules/s3rver ]] || [[ tests/Lab/package-lock.json -nt tests/Lab/node_modules/.package-lock.json ]]; }; then
  (cd tests/Lab && npm ci --no-audit --no-fund --loglevel=error)
fi

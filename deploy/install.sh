#!/usr/bin/env bash
# Installs PveHealth for scheduled runs on a Debian host (run as root).
#
#   deploy/install.sh [--package FILE.nupkg | --module DIR] [--skip-pwsh] [--enable]
#
# The module comes from its package (`dotnet pwsh ./build.ps1 -Task Package` writes out/packages/PveHealth.<version>.nupkg,
# the file Publish-PSResource puts in a PowerShell repository; --package takes one downloaded from there), or with
# --module from a built folder (out/PveHealth). Without either: the package in out/packages, else out/PveHealth.
# What lands where (everything under $DESTDIR when it is set, for packaging and tests):
#   /usr/local/share/powershell/Modules/PveHealth/   the module (on pwsh's AllUsers PSModulePath), with bin/pve-health-check.ps1
#   /opt/pve-health/tools/pwsh                       the pinned PowerShell .NET tool (7.6.9; --skip-pwsh to provide it yourself)
#   /etc/systemd/system/pve-health-check.{service,timer}, pve-health-check@.{service,timer} (one instance per environment)
#   /etc/pve-health/config.json, exclusions.conf     from examples/, only when not there yet (never overwritten)
#   /opt/pve-health/share/{prometheus,alertmanager,grafana}/   alert rules, Telegram route, dashboard (to copy into those services)
# On a live system (no DESTDIR) it also creates the system user pve-health, lets it write the node_exporter
# textfile folder /var/lib/prometheus/node-exporter (ACL, else group), runs systemctl daemon-reload and,
# with --enable, enables and starts pve-health-check.timer.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
module=""
package=""
skip_pwsh=0
enable=0
pwsh_version=7.6.9
while [ $# -gt 0 ]; do
  case "$1" in
    --module) module="$2"; shift 2 ;;
    --package) package="$2"; shift 2 ;;
    --skip-pwsh) skip_pwsh=1; shift ;;
    --enable) enable=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

dest="${DESTDIR:-}"
user=pve-health
moddir="$dest/usr/local/share/powershell/Modules/PveHealth"
etcdir="$dest/etc/pve-health"
unitdir="$dest/etc/systemd/system"
optdir="$dest/opt/pve-health"
textfile_dir=/var/lib/prometheus/node-exporter

if [ -n "$package" ] && [ -n "$module" ]; then echo "install.sh: --package and --module exclude each other" >&2; exit 2; fi
if [ -z "$package" ] && [ -z "$module" ]; then
  package="$(ls -1t "$repo"/out/packages/PveHealth.*.nupkg 2>/dev/null | head -n 1 || true)"
  [ -n "$package" ] || module="$repo/out/PveHealth"
fi
staging=""
trap '[ -z "$staging" ] || rm -rf "$staging"' EXIT
if [ -n "$package" ]; then
  if [ ! -f "$package" ]; then echo "install.sh: no package $package: run 'dotnet pwsh ./build.ps1 -Task Package' first" >&2; exit 1; fi
  # A .nupkg is a zip: the module's files at the root, beside NuGet's own (_rels/, package/, [Content_Types].xml, *.nuspec).
  staging="$(mktemp -d)"
  if command -v unzip >/dev/null; then
    unzip -q "$package" -d "$staging/x" || { echo "install.sh: $package is not a readable package" >&2; exit 1; }
  else
    python3 -m zipfile -e "$package" "$staging/x" || { echo "install.sh: $package is not a readable package" >&2; exit 1; }
  fi
  rm -rf "$staging/x/_rels" "$staging/x/package" "$staging/x/[Content_Types].xml" "$staging/x"/*.nuspec
  module="$staging/x"
  echo "package $package"
fi
if [ ! -f "$module/PveHealth.psd1" ] || [ ! -f "$module/bin/pve-health-check.ps1" ]; then
  echo "install.sh: no built module in ${package:-$module}: run 'dotnet pwsh ./build.ps1 -Task Package' (or -Task Build with --module DIR) first" >&2
  exit 1
fi
live=0
if [ -z "$dest" ]; then
  live=1
  if [ "$(id -u)" -ne 0 ]; then echo "install.sh: run as root (or set DESTDIR to stage the files)" >&2; exit 1; fi
fi

if [ "$live" -eq 1 ] && ! getent passwd "$user" >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/pve-health --no-create-home --shell /usr/sbin/nologin \
    --comment "PveHealth scheduled checks" "$user"
  echo "created system user $user"
fi

# The module: replaced as a whole, so files of an older version do not linger.
rm -rf "$moddir"
install -d -m 0755 "$moddir"
cp -R "$module/." "$moddir/"
chmod -R u=rwX,go=rX "$moddir"
echo "module -> $moddir"

if [ "$skip_pwsh" -eq 0 ]; then
  if [ -x "$optdir/tools/pwsh" ]; then
    echo "pwsh already in $optdir/tools"
  else
    install -d -m 0755 "$optdir/tools"
    dotnet tool install PowerShell --version "$pwsh_version" --tool-path "$optdir/tools"
  fi
fi

install -d -m 0755 "$unitdir"
install -m 0644 "$here/systemd/pve-health-check.service" "$here/systemd/pve-health-check.timer" \
  "$here/systemd/pve-health-check@.service" "$here/systemd/pve-health-check@.timer" "$unitdir/"
echo "units -> $unitdir"

install -d -m 0755 "$etcdir"
for pair in "config.json:config.json" "exclusions.conf:exclusions.conf"; do
  src="$here/../examples/${pair%%:*}"; dst="$etcdir/${pair##*:}"
  if [ -e "$dst" ]; then
    echo "kept existing $dst"
  else
    install -m 0640 "$src" "$dst"
    if [ "$live" -eq 1 ]; then chgrp "$user" "$dst"; fi
    echo "example -> $dst"
  fi
done

install -d -m 0755 "$optdir/share"
for d in prometheus alertmanager grafana; do
  rm -rf "${optdir:?}/share/$d"
  cp -R "$here/$d" "$optdir/share/$d"
done
echo "rules, Telegram route, dashboard -> $optdir/share"

if [ "$live" -eq 1 ]; then
  install -d -m 0755 "$textfile_dir"
  if command -v setfacl >/dev/null; then
    setfacl -m "u:$user:rwx" "$textfile_dir"
  else
    chgrp "$user" "$textfile_dir" && chmod g+rwx "$textfile_dir"
  fi
  systemctl daemon-reload
  if [ "$enable" -eq 1 ]; then
    systemctl enable --now pve-health-check.timer
  else
    echo "next: edit /etc/pve-health/config.json, then: systemctl enable --now pve-health-check.timer"
  fi
fi

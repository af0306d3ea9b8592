#!/usr/bin/env bash
# The lab's watchdog: started (in a session of its own, outside the namespace) by Start-PveLab, it waits
# for the pwsh that owns the lab to end and then removes whatever the lab left behind — so a lab is torn
# down even when its owner is killed (SIGTERM, SIGKILL, a CI timeout) and its finally blocks never run.
# Stop-PveLab stops this watchdog after a clean teardown.
# Usage: reaper.sh OWNER_PID LAB_ROOT [NAMESPACE]
set -u
owner=$1 root=$2 ns=${3:-}
[[ $root == /tmp/* || $root == /var/tmp/* || $root == "${TMPDIR:-/tmp}"/* ]] || { echo "reaper: refusing to manage $root" >&2; exit 2; }
# Bounded: a lab never lives longer than a day.
for ((i = 0; i < 86400; i++)); do
  kill -0 "$owner" 2>/dev/null || break
  sleep 1
done
if [[ -n $ns ]] && ip netns list 2>/dev/null | grep -qw -- "$ns"; then
  for round in 1 2 3 4 5; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [[ -z $pids ]] && break
    kill -9 $pids 2>/dev/null
    sleep 0.2
  done
  ip netns delete "$ns" 2>/dev/null
fi
# Without a namespace (loopback mode) the lab's processes are the ones started with the lab folder in their command line.
for pid in $(pgrep -f -- "$root" 2>/dev/null); do
  [[ $pid == "$$" ]] || kill -9 "$pid" 2>/dev/null
done
rm -rf -- "$root"

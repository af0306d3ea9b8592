#!/bin/bash
# The shell baseline for one guest, as an administrator would write it: ping, one OpenSSH command (the Docker
# check), one curl to the Proxmox status endpoint. Run by Invoke-Benchmark.ps1 through `xargs -P 64 -L 1` inside
# the lab's network namespace. Arguments: address node qemu|lxc vmid. Environment: BENCH_KEY, BENCH_KNOWN_HOSTS,
# BENCH_USER, BENCH_CERT, BENCH_API (https://127.0.0.1:port), BENCH_AUTH_HEADER (a file holding the header line,
# so the token never appears on a command line).
ip=$1 node=$2 kind=$3 vmid=$4
ping -c1 -W2 "$ip" >/dev/null 2>&1
p=$?
ssh -o BatchMode=yes -o ConnectTimeout=2 -o UserKnownHostsFile="$BENCH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
    -i "$BENCH_KEY" "$BENCH_USER@$ip" systemctl is-active docker >/dev/null 2>&1
s=$?
a=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$BENCH_CERT" -H "@$BENCH_AUTH_HEADER" \
    "$BENCH_API/api2/json/nodes/$node/$kind/$vmid/status/current")
echo "$ip ping=$p ssh=$s api=$a"

#!/usr/bin/env bash
# Quick throughput and latency of a local 3-node cluster with wrk (installs it from Debian if missing):
# kv-put and orders at 1, 64 and 256 connections against the leader, 10 s each, Release build, fsync on.
# Usage: bench/throughput.sh [durable=true|false] [seconds=10]
# The full harness with etcd side by side is `raftmall bench` (issue 15); this is the quick look.
set -euo pipefail
cd "$(dirname "$0")/.."
durable=${1:-true}
seconds=${2:-10}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
dotnet build -c Release src/RaftClient/RaftMall.Cli -v quiet >/dev/null
cli="dotnet src/RaftClient/RaftMall.Cli/bin/Release/net10.0/raftmall.dll"
dir=$(mktemp -d)
sed "s|^dataDirectory: .*|dataDirectory: $dir/data|; s|^durableFollowerAppends: .*|durableFollowerAppends: $durable|" cluster.yml > "$dir/cluster.yml"
trap_cmd=1; trap '$cli --config "$dir/cluster.yml" cluster down >/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
$cli --config "$dir/cluster.yml" cluster up >/dev/null
leader=$($cli --config "$dir/cluster.yml" cluster status --json | grep -o '"leaderId": "[^"]*"' | head -1 | cut -d'"' -f4)
address=$(grep -A1 "id: $leader" "$dir/cluster.yml" | grep address | awk '{print $2}')
for s in $(seq 0 99); do curl -s -o /dev/null -X PUT "$address/api/stock/bench-$s" -H 'content-type: application/json' -d '{"available":1000000000}'; done
term_before=$($cli --config "$dir/cluster.yml" cluster status --json | grep -o '"term": [0-9]*' | head -1 | awk '{print $2}')
echo "durable follower appends: $durable; leader $leader at $address; $seconds s per run"
printf '%-8s %6s %10s %9s %9s %9s %8s\n' workload conns "req/s" "p50" "p90" "p99" errors
for workload in kv-put orders; do
  for c in 1 64 256; do
    threads=$(( c < 2 ? 1 : 2 ))
    out=$(wrk -t$threads -c$c -d${seconds}s --latency -s bench/wrk/$workload.lua "$address")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '/ 50%/ {print $2}'); p90=$(echo "$out" | awk '/ 90%/ {print $2}'); p99=$(echo "$out" | awk '/ 99%/ {print $2}')
    errors=$(echo "$out" | awk '/Non-2xx/ {print $5}'); errors=${errors:-0}
    printf '%-8s %6s %10s %9s %9s %9s %8s\n' "$workload" "$c" "$rps" "$p50" "$p90" "$p99" "$errors"
  done
done
term_after=$($cli --config "$dir/cluster.yml" cluster status --json | grep -o '"term": [0-9]*' | head -1 | awk '{print $2}')
echo "term before $term_before, after $term_after (a change means an election happened under load)"

#!/usr/bin/env bash
# Stalls under load with a large state: one local 3-node cluster (Release build, the timings of cluster.yml), first
# PRELOAD runs of orders ×256 (10 s each) that grow every node's heap to 500–800 MB, then RUNS runs cycling kv-put ×64,
# kv-put ×256 and orders ×256; prints each run's throughput, p99 and term, how many runs saw an election, and every
# node's stall watch warnings of 200 ms or more (each names the GC pause in it and the collections of each generation).
#   bench/stalls-under-load.sh [label]           PRELOAD=6 RUNS=15 by default
# Variables the nodes read pass through, so one command compares settings side by side, e.g. the background GC keeper
# off (RaftMall__BackgroundGcKeepAliveSeconds=0) or the server GC (DOTNET_gcServer=1).
set -euo pipefail
cd "$(dirname "$0")/.."
label=${1:-run}
preload=${PRELOAD:-6}
runs=${RUNS:-15}
source bench/scratch-cluster.sh
trap '$cli --config "$dir/cluster.yml" cluster down >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"' EXIT
$cli --config "$dir/cluster.yml" cluster up >/dev/null
elections=0
workloads=("kv-put 64" "kv-put 256" "orders 256")
printf '%4s %-8s %5s %9s %7s %s\n' run workload conns "writes/s" "p99 ms" term
for i in $(seq 1 $((preload + runs))); do
  if [ "$i" -le "$preload" ]; then workload=orders; clients=256; else read -r workload clients <<<"${workloads[$(( (i - preload - 1) % 3 ))]}"; fi
  out=$($cli --config "$dir/cluster.yml" bench -w "$workload" -n "$clients" -d 10s --warmup 1s --json 2>/dev/null)
  rps=$(echo "$out" | grep -o '"opsPerSecond": [0-9.]*' | head -1 | awk '{printf "%.0f", $2}')
  p99=$(echo "$out" | grep -o '"p99": [0-9.]*' | head -1 | awk '{printf "%.0f", $2}')
  before=$(echo "$out" | grep -o '"termBefore": [0-9]*' | head -1 | awk '{print $2}')
  after=$(echo "$out" | grep -o '"termAfter": [0-9]*' | head -1 | awk '{print $2}')
  mark=""
  # The first run also takes the start-up (JIT compilation): an election there is not counted.
  if [ "$i" -gt 1 ] && [ "${before:-x}" != "${after:-y}" ]; then mark=" ELECTION"; elections=$((elections + 1)); fi
  printf '%4s %-8s %5s %9s %7s %s\n' "$i" "$workload" "$clients" "$rps" "$p99" "${before:-?} → ${after:-?}$mark"
done
echo "$label: $elections of $((preload + runs - 1)) runs (the first not counted) saw an election"
for log in "$dir"/data/*/node.log; do
  echo "$(basename "$(dirname "$log")"): $(grep -c " stalled " "$log" || true) stalls of 100 ms or more; those of 200 ms or more:"
  grep -h " stalled \(2[0-9][0-9]\|[3-9][0-9][0-9]\|[0-9][0-9][0-9][0-9]\) ms" "$log" | sed 's/warn: [A-Za-z.]*StallWatch\[[0-9]*\] /    /' | cut -c1-220 || true
  grep -h "election in progress\|stepping down" "$log" | sed "s/^/    /" | cut -c1-160 || true
done

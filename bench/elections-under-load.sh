#!/usr/bin/env bash
# Elections under full load: N consecutive measured runs on one local 3-node cluster (Release build, fsync on, the
# timings of cluster.yml), cycling kv-put ×64, kv-put ×256 and orders ×256 at 10 s each (DURATION), and prints each
# run's throughput, p99, errors and term before → after; ends with how many runs saw an election.
#   bench/elections-under-load.sh [runs=50]
# Every node's log is searched afterwards for the lines that explain an election: a follower's timer firing ("no
# leader"), a quorum check that made the leader resign, and the stall watch's warnings (the process held: GC or no CPU;
# the thread pool busy). KEEP=1 keeps the cluster's directory.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
duration=${DURATION:-10s}
source bench/scratch-cluster.sh
trap '$cli --config "$dir/cluster.yml" cluster down >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"' EXIT
$cli --config "$dir/cluster.yml" cluster up >/dev/null
$cli --config "$dir/cluster.yml" bench -w orders -n 64 -d 10s --warmup 0s --json >/dev/null 2>&1 # unmeasured: JIT, stock
workloads=("kv-put 64" "kv-put 256" "orders 256")
with_election=0
printf '%4s %-8s %5s %9s %9s %7s %s\n' run workload conns "writes/s" "p99 ms" errors term
for i in $(seq 1 "$runs"); do
  read -r workload clients <<<"${workloads[$(( (i - 1) % 3 ))]}"
  out=$($cli --config "$dir/cluster.yml" bench -w "$workload" -n "$clients" -d "$duration" --warmup 1s --json 2>/dev/null)
  rps=$(echo "$out" | grep -o '"opsPerSecond": [0-9.]*' | head -1 | awk '{printf "%.0f", $2}')
  p99=$(echo "$out" | grep -o '"p99": [0-9.]*' | head -1 | awk '{printf "%.1f", $2}')
  errors=$(echo "$out" | grep -o '"errorCount": [0-9]*' | head -1 | awk '{print $2}')
  before=$(echo "$out" | grep -o '"termBefore": [0-9]*' | head -1 | awk '{print $2}')
  after=$(echo "$out" | grep -o '"termAfter": [0-9]*' | head -1 | awk '{print $2}')
  mark=""; if [ "${before:-x}" != "${after:-y}" ]; then mark=" ELECTION"; with_election=$((with_election + 1)); fi
  printf '%4s %-8s %5s %9s %9s %7s %s\n' "$i" "$workload" "$clients" "$rps" "$p99" "${errors:-?}" "${before:-?} → ${after:-?}$mark"
done
echo "$with_election of $runs runs saw an election"
for log in "$dir"/data/*/node.log; do
  echo "$(basename "$(dirname "$log")"): $(grep -c "election in progress" "$log" || true) elections seen, $(grep -c "steps down\|stepping down" "$log" || true) step-downs, $(grep -c " stalled " "$log" || true) stalls of 100 ms or more"
  grep -h "election in progress\|stepping down\| stalled " "$log" | sed "s/^/    /" | cut -c1-200 | tail -n "${SHOW:-12}"
done

#!/usr/bin/env bash
# What metrics cost: kv-put throughput at 64 clients on a local 3-node cluster with metrics on (scraped every 5 s,
# as a busy Prometheus would; SCRAPE=0: not scraped) and off (RaftMall__Metrics=false), alternating which goes first,
# N rounds, in one run.
#   bench/metrics-overhead.sh [rounds=3] [duration=20s]
# WARMUP (default 20s) is unmeasured load before each measured run: a fresh cluster spends its first tens of seconds
# compiling its hot paths (more of them with metrics on), which a short warm-up would charge to the side being measured.
# Prints one line per run and the mean of each side. Release build; the cluster lives in a temporary directory.
# Besides writes/s it prints the nodes' CPU time per write (user + system of the three node processes during the
# load, from /proc): on a shared 2-vCPU guest whose speed drifts from run to run, CPU per write moves far less than
# throughput does, so it is the steadier measure of what metrics cost.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
duration=${2:-20s}
source bench/scratch-cluster.sh
trap '$cli --config "$dir/cluster.yml" cluster down >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
run() { # $1 = on|off
  rm -rf "$dir/data"
  RaftMall__Metrics=$([ "$1" = on ] && echo true || echo false) $cli --config "$dir/cluster.yml" cluster up >/dev/null
  local scraper=""
  if [ "$1" = on ] && [ "${SCRAPE:-1}" = 1 ]; then start_scraper; fi
  $cli --config "$dir/cluster.yml" bench -w kv-put -n 64 -d "${WARMUP:-20s}" --warmup 0s --json >/dev/null # unmeasured
  local cpu_before; cpu_before=$(node_cpu_ticks)
  local out; out=$($cli --config "$dir/cluster.yml" bench -w kv-put -n 64 -d "$duration" --json)
  local cpu_after; cpu_after=$(node_cpu_ticks)
  [ -n "$scraper" ] && kill "$scraper" 2>/dev/null || true
  $cli --config "$dir/cluster.yml" cluster down >/dev/null
  local rps; rps=$(echo "$out" | grep -o '"opsPerSecond": [0-9.]*' | head -1 | awk '{print $2}')
  local ops; ops=$(echo "$out" | grep -o '"requests": [0-9]*' | head -1 | awk '{print $2}')
  # CPU ms per write: ticks are 1/CLK_TCK s.
  local cpu; cpu=$(awk -v t=$((cpu_after - cpu_before)) -v hz="$(getconf CLK_TCK)" -v n="${ops:-0}" 'BEGIN { if (n > 0) printf "%.4f", t / hz * 1000 / n; else print "nan" }')
  echo "$1 $rps $cpu"
}
node_cpu_ticks() { # utime + stime of the node processes, in clock ticks
  local total=0 pid
  for pidfile in "$dir"/data/*/node.pid; do
    pid=$(awk '{print $1}' "$pidfile") # "pid start-time"
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
results=()
for r in $(seq 1 "$rounds"); do
  sides="on off"; [ $((r % 2)) -eq 0 ] && sides="off on" # alternate which goes first: no bias from the order
  for side in $sides; do
    line=$(run "$side"); echo "round $r: metrics $line" | awk '{printf "round %s metrics %s: %s writes/s, %s CPU ms per write\n", $2, $4, $5, $6}'; results+=("$line")
  done
done
printf '%s\n' "${results[@]}" | awk '{s[$1]+=$2; c[$1]+=$3; n[$1]++} END {
  on=s["on"]/n["on"]; off=s["off"]/n["off"]; printf "mean: metrics on %.0f writes/s, off %.0f writes/s: on costs %.1f %% of throughput\n", on, off, (off-on)/off*100
  con=c["on"]/n["on"]; coff=c["off"]/n["off"]; printf "mean: metrics on %.4f, off %.4f CPU ms per write: on costs %.1f %% more CPU per write\n", con, coff, (con-coff)/coff*100 }'

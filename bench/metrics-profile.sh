#!/usr/bin/env bash
# Where metrics spend CPU, measured inside the nodes instead of by comparing two clusters' throughput. It starts a
# fresh local 3-node cluster with metrics on, scrapes every node's /metrics every 5 s (as a busy Prometheus would),
# warms it with kv-put at 64 clients, and then samples each node process's stacks with perf while the same load runs.
# For each node it prints the share of CPU samples spent in metrics code, and the call sites that pay the most:
# OpenTelemetry's SDK and Prometheus exporter, System.Diagnostics.Metrics instruments, and the metrics of ASP.NET Core
# (hosting, Kestrel, routing, rate limiting). A/B runs of bench/metrics-overhead.sh on this 2-vCPU guest spread more
# between runs than the 5 % they try to see; a sample share does not depend on how fast the machine ran that minute.
#   bench/metrics-profile.sh [duration=15s]
# Needs root and perf (apt-get install linux-perf). The nodes run with DOTNET_PerfMapEnabled=1 (JIT-compiled code
# gets names) and DOTNET_EnableWriteXorExecute=0 (perf can resolve code that is not double-mapped). WARMUP (default
# 25s) is the unmeasured load first. Release build; the cluster lives in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15s}
seconds=${duration%s}
command -v perf >/dev/null || { echo "perf is missing: apt-get install linux-perf" >&2; exit 2; }
source bench/scratch-cluster.sh
scraper=""
cleanup() {
  [ -n "$scraper" ] && kill "$scraper" 2>/dev/null || true
  $cli --config "$dir/cluster.yml" cluster down >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 RaftMall__Metrics=true $cli --config "$dir/cluster.yml" cluster up >/dev/null
start_scraper
$cli --config "$dir/cluster.yml" bench -w kv-put -n 64 -d "${WARMUP:-25s}" --warmup 0s --json >/dev/null
leader=$($cli --config "$dir/cluster.yml" cluster status --json | grep -o '"leaderId": *"[^"]*"' | head -1 | sed 's/.*"\([^"]*\)"$/\1/')
$cli --config "$dir/cluster.yml" bench -w kv-put -n 64 -d "$((seconds + 6))s" --warmup 0s --json > "$dir/bench.json" &
load=$!
sleep 3
recorders=()
for pidfile in "$dir"/data/*/node.pid; do
  node=$(basename "$(dirname "$pidfile")")
  perf record -F 499 -g -p "$(awk '{print $1}' "$pidfile")" -o "$dir/$node.perf" -- sleep "$seconds" >/dev/null 2>&1 &
  recorders+=($!)
done
wait "${recorders[@]}"
wait "$load"
echo "kv-put at 64 clients: $(grep -o '"opsPerSecond": [0-9.]*' "$dir/bench.json" | head -1 | awk '{printf "%.0f", $2}') writes/s; leader $leader; perf at 499 Hz for $duration per node"
for pidfile in "$dir"/data/*/node.pid; do
  node=$(basename "$(dirname "$pidfile")")
  role=$([ "$node" = "$leader" ] && echo leader || echo follower)
  # One record per sample (perf script separates samples by a blank line); the outermost metrics frame and its caller
  # name the call site.
  perf script -i "$dir/$node.perf" 2>/dev/null | awk -v node="$node" -v role="$role" '
    BEGIN { RS = ""; FS = "\n"; metrics = "OpenTelemetry|System\\.Diagnostics\\.Metrics|(Hosting|Kestrel|Routing|RateLimiting)Metrics" }
    function name(frame) { sub(/^[ \t]*[0-9a-f]+ /, "", frame); sub(/\+0x[0-9a-f]+ .*$/, "", frame); sub(/ \(.*$/, "", frame);
                           sub(/\(.*$/, "", frame); n = split(frame, parts, " "); return parts[n] }
    { total++; outer = 0
      for (i = 2; i <= NF; i++) if ($i ~ metrics) outer = i
      if (outer) { hits++; site[name($outer) " <- " (outer < NF ? name($(outer + 1)) : "?")]++ } }
    END { printf "%s (%s): %d of %d samples in metrics code: %.1f %%\n", node, role, hits, total, total ? 100 * hits / total : 0
          for (s in site) printf "%d\t%s\n", site[s], s | "sort -rn | head -n 6 | sed \"s/^/    /\""; }'
done

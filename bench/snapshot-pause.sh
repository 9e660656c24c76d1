#!/usr/bin/env bash
# What snapshots cost the writes behind them: kv-put at 256 clients on a fresh local 3-node cluster (100,000 keys of
# 256 bytes, so a state of ~25 MiB and a snapshot every snapshotIntervalEntries commands, several per run). Prints,
# per round, p99, p99.9 and max latency, and every snapshot line of the nodes' logs (how long each took, and whether
# applying waited for it).
#   bench/snapshot-pause.sh [rounds=2] [duration=30s]
#   SNAPSHOT_INTERVAL=N overrides cluster.yml's snapshotIntervalEntries (a huge N: no snapshot, the baseline).
# Release build; the cluster lives in a temporary directory. Compare two builds by running it in both trees, alternating.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
duration=${2:-30s}
dotnet build -c Release src/RaftClient/RaftMall.Cli -v quiet -nologo >/dev/null
cli="dotnet src/RaftClient/RaftMall.Cli/bin/Release/net10.0/raftmall.dll"
dir=$(mktemp -d)
sed -e "s|^dataDirectory: .*|dataDirectory: $dir/data|" \
    -e "s|^snapshotIntervalEntries: .*|snapshotIntervalEntries: ${SNAPSHOT_INTERVAL:-$(grep -o '^snapshotIntervalEntries: [0-9]*' cluster.yml | awk '{print $2}')}|" \
    cluster.yml > "$dir/cluster.yml"
trap '$cli --config "$dir/cluster.yml" cluster down >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
for r in $(seq 1 "$rounds"); do
  rm -rf "$dir/data"
  $cli --config "$dir/cluster.yml" cluster up >/dev/null
  out=$($cli --config "$dir/cluster.yml" bench -w kv-put -n 256 -d "$duration" --json 2>/dev/null)
  $cli --config "$dir/cluster.yml" cluster down >/dev/null
  echo "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); l=j['latencyMs']; print(f\"round $r: {j['opsPerSecond']:.0f} writes/s, p99 {l['p99']:.1f} ms, p99.9 {l['p999']:.1f} ms, max {l['max']:.1f} ms, errors {j.get('errorCount')}\")"
  grep -h "snapshot taken" "$dir"/data/*/node.log | sed 's/^/  /' || echo "  (no snapshot)"
done

#!/usr/bin/env bash
# Failover timing: N trials of `raftmall demo failover` (kill -9 of the leader under load from 8 clients);
# prints each trial's time from the kill to the first acknowledged write and p50/p99/max, plus each verdict.
# Usage: bench/failover-trials.sh [trials=10]
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-10}
dotnet build -c Release src/RaftClient/RaftMall.Cli -v quiet >/dev/null
cli="dotnet src/RaftClient/RaftMall.Cli/bin/Release/net10.0/raftmall.dll"
results=()
for i in $(seq 1 "$trials"); do
  json=$($cli demo failover --duration 7 --kill-after 3 --restart-after 2 --json)
  ms=$(echo "$json" | grep -o '"msFromKillToFirstAcknowledgedWrite": [0-9.]*' | awk '{printf "%.0f", $2}')
  ok=$(echo "$json" | grep -c '"missingOrdersByNode"' || true)
  verdict=$(echo "$json" | grep -q '"replicasIdentical": true' && echo ok || echo FAILED)
  echo "trial $i: kill -9 -> first acknowledged write ${ms} ms, replicas $verdict"
  results+=("$ms")
done
printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {p50=a[int((NR+1)/2)]; p99=a[NR - int(NR/100)]; print "trials " NR ": p50 " p50 " ms, p99 " p99 " ms, max " a[NR] " ms"}'

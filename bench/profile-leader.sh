#!/usr/bin/env bash
# Where the leader's time goes at N clients: dotnet-counters (CPU, GC, thread pool, lock contention) and a CPU
# sampling trace of the leader while `raftmall bench` loads a scratch cluster, then the top methods of the trace.
# Installs dotnet-counters and dotnet-trace into .tools/ (git-ignored) when missing.
# Usage: bench/profile-leader.sh [clients=64] [workload=kv-put] [seconds=20]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-64}
workload=${2:-kv-put}
seconds=${3:-20}
tools=$(pwd)/.tools
for tool in dotnet-counters dotnet-trace; do
  [ -x "$tools/$tool" ] || dotnet tool install --tool-path "$tools" "$tool" >/dev/null
done
dotnet build -c Release src/RaftClient/RaftMall.Cli -v quiet -nologo >/dev/null
dir=$(mktemp -d)
sed "s|^dataDirectory: .*|dataDirectory: $dir/data|; s|127.0.0.1:710|127.0.0.1:740|" cluster.yml > "$dir/cluster.yml"
cli=(dotnet src/RaftClient/RaftMall.Cli/bin/Release/net10.0/raftmall.dll --config "$dir/cluster.yml")
trap '"${cli[@]}" cluster down >/dev/null 2>&1; rm -rf "$dir"' EXIT
"${cli[@]}" cluster up >/dev/null
leader_pid=$("${cli[@]}" cluster status --json | python3 -c 'import json,sys; print(next(n["status"]["processId"] for n in json.load(sys.stdin) if n["status"] and n["status"]["role"]=="leader"))')
out=${RAFTMALL_BENCH_OUT:-bench/results}
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
"${cli[@]}" bench -w "$workload" -n "$clients" -d "$((seconds + 5))s" --warmup 3s > "$out/profile-$stamp-bench.txt" 2>/dev/null &
bench=$!
sleep 5
"$tools/dotnet-counters" collect -p "$leader_pid" --duration "00:00:$(printf %02d "$((seconds / 2))")" --format csv -o "$out/profile-$stamp-counters.csv" \
  --counters System.Runtime,Microsoft.AspNetCore.Hosting >/dev/null
"$tools/dotnet-trace" collect -p "$leader_pid" --profile dotnet-sampled-thread-time --duration "00:00:00:$(printf %02d "$((seconds / 2 - 2))")" -o "$out/profile-$stamp.nettrace" >/dev/null
wait $bench
cat "$out/profile-$stamp-bench.txt"
echo "--- counters (last sample of each): $out/profile-$stamp-counters.csv"
python3 - "$out/profile-$stamp-counters.csv" <<'PY'
import csv, sys
last = {}
for row in csv.reader(open(sys.argv[1])):
    if len(row) >= 5 and row[0] != "Timestamp":
        last[row[2]] = row[4]
for name, value in sorted(last.items()):
    print(f"  {name}: {value}")
PY
echo "--- top methods by exclusive samples ($out/profile-$stamp.nettrace)"
"$tools/dotnet-trace" report "$out/profile-$stamp.nettrace" topN -n 25 2>/dev/null || true

#!/usr/bin/env bash
# What metrics cost: kv-put throughput at 64 clients on a local 3-node cluster with metrics on (scraped every 5 s,
# as a busy Prometheus would; SCRAPE=0: not scraped) and off (RaftMall__Metrics=false), alternating which goes first,
# N rounds, in one run.
#   bench/metrics-overhead.sh [rounds=3] [duration=20s]
# Prints one line per run and the mean of each side. Release build; the cluster lives in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
duration=${2:-20s}
dotnet build -c Release src/RaftClient/RaftMall.Cli -v quiet -nologo >/dev/null
cli="dotnet src/RaftClient/RaftMall.Cli/bin/Release/net10.0/raftmall.dll"
dir=$(mktemp -d)
sed "s|^dataDirectory: .*|dataDirectory: $dir/data|" cluster.yml > "$dir/cluster.yml"
trap '$cli --config "$dir/cluster.yml" cluster down >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
run() { # $1 = on|off
  rm -rf "$dir/data"
  RaftMall__Metrics=$([ "$1" = on ] && echo true || echo false) $cli --config "$dir/cluster.yml" cluster up >/dev/null
  local scraper=""
  if [ "$1" = on ] && [ "${SCRAPE:-1}" = 1 ]; then
    local key; key=$(grep -o 'rmr_[A-Za-z0-9_-]*' "$dir/credentials.env" | head -1) # the reader key
    ( while true; do for p in 7101 7102 7103; do curl -s -o /dev/null -H "Authorization: Bearer $key" "http://127.0.0.1:$p/metrics"; done; sleep 5; done ) &
    scraper=$!
  fi
  local out; out=$($cli --config "$dir/cluster.yml" bench -w kv-put -n 64 -d "$duration" --json)
  [ -n "$scraper" ] && kill "$scraper" 2>/dev/null || true
  $cli --config "$dir/cluster.yml" cluster down >/dev/null
  local rps; rps=$(echo "$out" | grep -o '"opsPerSecond": [0-9.]*' | head -1 | awk '{print $2}')
  echo "$1 $rps"
}
results=()
for r in $(seq 1 "$rounds"); do
  sides="on off"; [ $((r % 2)) -eq 0 ] && sides="off on" # alternate which goes first: no bias from the order
  for side in $sides; do
    line=$(run "$side"); echo "round $r: metrics $line writes/s"; results+=("$line")
  done
done
printf '%s\n' "${results[@]}" | awk '{s[$1]+=$2; n[$1]++} END {on=s["on"]/n["on"]; off=s["off"]/n["off"]; printf "mean: metrics on %.0f writes/s, off %.0f writes/s: on costs %.1f %%\n", on, off, (off-on)/off*100}'

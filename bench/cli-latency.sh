#!/usr/bin/env bash
# Wall-clock time of one tool call, N times: median, min and max in ms.
#   bench/cli-latency.sh [-n 10] -- ./raftmall cluster status
# Run against a started cluster (./raftmall cluster up; ./raftmall stock set apple 1000000 for orders).
set -euo pipefail
runs=10
while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n 2,4p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: bench/cli-latency.sh [-n N] -- <command...>" >&2; exit 2; }
times=()
for _ in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  if ! "$@" >/dev/null 2>&1; then echo "failed: $*" >&2; "$@" >&2 || true; exit 1; fi
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
n=${#sorted[@]}
if (( n % 2 )); then median=${sorted[$((n / 2))]}; else median=$(( (sorted[n/2-1] + sorted[n/2]) / 2 )); fi
echo "$*: median ${median} ms (min ${sorted[0]}, max ${sorted[$((n-1))]}, n=$n)"

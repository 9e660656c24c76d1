#!/usr/bin/env bash
# RaftMall against etcd on this machine, same load generator, same keys and values, alternating, 3 repeats:
# kv-put, kv-get (linearizable) and orders (against etcd's kv-put) at 1, 16, 64 and 256 clients; then failover
# timing (kill -9 of the leader, 20 trials) for RaftMall, etcd with its defaults and etcd with RaftMall's timings.
# Installs etcd-server from Debian when missing. Every cluster runs from a scratch directory on free ports and is
# removed at the end (RAFTMALL_BENCH_KEEP=1 keeps the directories). Takes ~25 minutes with the defaults.
# Usage: bench/compare-etcd.sh [seconds per run=10] [repeats=3] [failover trials=20]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
repeats=${2:-3}
trials=${3:-20}
if ! command -v etcd >/dev/null && [ ! -x /usr/bin/etcd ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
fi
dotnet build -c Release src/RaftClient/RaftMall.Cli -v quiet -nologo >/dev/null
cli=(dotnet src/RaftClient/RaftMall.Cli/bin/Release/net10.0/raftmall.dll --config cluster.yml)
out=${RAFTMALL_BENCH_OUT:-bench/results}
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
echo "machine: $(nproc) cores, $(uname -r), etcd $(etcd --version 2>/dev/null | head -1 | awk '{print $3}')"
"${cli[@]}" bench compare --duration "${seconds}s" --repeats "$repeats" --out "$out/compare-$stamp.json"
"${cli[@]}" bench failover --targets raftmall,etcd,etcd-matched --trials "$trials" | tee "$out/failover-$stamp.txt"
echo "JSON of every run: $out/compare-$stamp.json"

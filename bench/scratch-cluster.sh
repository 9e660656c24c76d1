# Sourced by the metrics scripts (bench/metrics-overhead.sh, bench/metrics-profile.sh), from the repository root:
# builds the raftmall tool (Release), sets $cli to run it and $dir to a temporary directory holding $dir/cluster.yml, a
# copy of cluster.yml whose data lives in $dir/data. The caller owns clean-up (cluster down, rm -rf "$dir").
dotnet build -c Release src/RaftClient/RaftMall.Cli -v quiet -nologo >/dev/null
cli="dotnet src/RaftClient/RaftMall.Cli/bin/Release/net10.0/raftmall.dll"
dir=$(mktemp -d)
sed "s|^dataDirectory: .*|dataDirectory: $dir/data|" cluster.yml > "$dir/cluster.yml"

# Scrapes every node's /metrics every 5 s with the reader key (as a busy Prometheus would), in the background, until
# the caller kills $scraper.
start_scraper() {
  local key ports
  key=$(grep -o 'rmr_[A-Za-z0-9_-]*' "$dir/credentials.env" | head -1)
  ports=$(grep -o '127.0.0.1:[0-9]*' "$dir/cluster.yml" | cut -d: -f2 | sort -u)
  ( while true; do for p in $ports; do curl -s -o /dev/null -H "Authorization: Bearer $key" "http://127.0.0.1:$p/metrics"; done; sleep 5; done ) &
  scraper=$!
}

#!/usr/bin/env bash
# Builds the node image on a machine that reaches no container registry, from this machine's own .NET install:
#   1. local/dotnet-aspnet:10.0, a stand-in for mcr.microsoft.com/dotnet/aspnet:10.0: `docker import` of the host's
#      dotnet host and shared frameworks plus exactly the libraries ldd lists (and OpenSSL, which .NET loads with
#      dlopen). Rebuilt only when missing or when the host's ASP.NET Core runtime version changed.
#   2. `dotnet publish` of the node (framework-dependent, ReadyToRun) and of its health probe into deploy/publish/.
#   3. `docker build --target prepublished`: the Dockerfile's runtime stage on that folder, no SDK image.
# Usage: deploy/build-offline-image.sh [image tag]        (default raftmall/node:dev)
# Env:   BASE_IMAGE (default local/dotnet-aspnet:10.0), DOTNET_ROOT (default: where `dotnet` lives)
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=${1:-raftmall/node:dev}
BASE_IMAGE=${BASE_IMAGE:-local/dotnet-aspnet:10.0}
DOTNET_ROOT=${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}
newest() { find "$1" -mindepth 1 -maxdepth 1 -name '10.*' -printf '%f\n' | sort -V | tail -n 1; }
NETCORE_VERSION=$(newest "$DOTNET_ROOT/shared/Microsoft.NETCore.App")
ASPNET_VERSION=$(newest "$DOTNET_ROOT/shared/Microsoft.AspNetCore.App")
[ -n "$NETCORE_VERSION" ] && [ -n "$ASPNET_VERSION" ] || { echo "no .NET 10 runtimes under $DOTNET_ROOT/shared" >&2; exit 1; }

build_base() {
  local root
  root=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: $root is local
  trap "rm -rf '$root'" RETURN
  mkdir -p "$root/usr/share/dotnet/shared/Microsoft.NETCore.App" "$root/usr/share/dotnet/shared/Microsoft.AspNetCore.App" \
    "$root/usr/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/app"
  chmod 1777 "$root/tmp"
  cp -a "$DOTNET_ROOT/dotnet" "$DOTNET_ROOT/host" "$root/usr/share/dotnet/"
  cp -a "$DOTNET_ROOT/shared/Microsoft.NETCore.App/$NETCORE_VERSION" "$root/usr/share/dotnet/shared/Microsoft.NETCore.App/"
  cp -a "$DOTNET_ROOT/shared/Microsoft.AspNetCore.App/$ASPNET_VERSION" "$root/usr/share/dotnet/shared/Microsoft.AspNetCore.App/"
  find "$root" -name libcoreclrtraceptprovider.so -delete # needs liblttng-ust, which is optional
  ln -s ../share/dotnet/dotnet "$root/usr/bin/dotnet"
  # merged /usr, as on Debian 12: ldd prints /lib/... and the ELF interpreter is /lib64/ld-linux-x86-64.so.2
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  ln -s usr/bin "$root/bin"
  local libs
  libs=$({ ldd "$root/usr/share/dotnet/dotnet"; find "$root/usr/share/dotnet" -name '*.so' -exec ldd {} \;; } 2>/dev/null \
    | grep -oE '/[^ ]+\.so[^ ]*' | grep -v "^$root" | sort -u)
  # dlopen()ed by System.Security.Cryptography.Native, so ldd does not list them
  libs+=$'\n'$(ls /usr/lib/x86_64-linux-gnu/libssl.so.3 /usr/lib/x86_64-linux-gnu/libcrypto.so.3)
  local lib dest
  while read -r lib; do
    case $lib in /usr/*) dest=$root$lib ;; *) dest=$root/usr$lib ;; esac
    mkdir -p "$(dirname "$dest")"
    cp -L "$lib" "$dest"
  done <<<"$libs"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/" 2>/dev/null || true
  printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:1654:1654:app:/app:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\napp:x:1654:\n' >"$root/etc/group"
  echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
  # The same environment as Microsoft's aspnet image (APP_UID, ports, versions), so the Dockerfile treats both alike.
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV DOTNET_ROOT=/usr/share/dotnet DOTNET_RUNNING_IN_CONTAINER=true DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true' \
    -c "ENV APP_UID=1654 ASPNETCORE_HTTP_PORTS=8080 DOTNET_VERSION=$NETCORE_VERSION ASPNET_VERSION=$ASPNET_VERSION" \
    - "$BASE_IMAGE" >/dev/null
}

T0=$SECONDS
have=$(docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$BASE_IMAGE" 2>/dev/null | sed -n 's/^ASPNET_VERSION=//p' || true)
if [ "$have" != "$ASPNET_VERSION" ]; then
  build_base
  echo "base image $BASE_IMAGE built from $DOTNET_ROOT (ASP.NET Core $ASPNET_VERSION) in $((SECONDS - T0)) s"
else
  echo "base image $BASE_IMAGE is up to date (ASP.NET Core $ASPNET_VERSION)"
fi

T1=$SECONDS
mkdir -p deploy/publish/app deploy/publish/data
find deploy/publish/app deploy/publish/data -mindepth 1 ! -name .gitkeep -delete # keep git's placeholders
# ReadyToRun: the node's and its libraries' code is compiled ahead of time, so a node does not spend its first
# leadership JIT-compiling the leader's paths (about 100-200 ms before its first commit, docs/benchmarks.md).
dotnet publish src/RaftNode/RaftNode.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o deploy/publish/app -p:UseAppHost=false --nologo -v q
dotnet publish deploy/healthcheck/HealthCheck.csproj -c Release -o deploy/publish/app/healthcheck -p:UseAppHost=false --nologo -v q
echo "node published to deploy/publish/app in $((SECONDS - T1)) s"

T2=$SECONDS
previous=$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)
# Without buildx, `docker build` is the legacy builder, which prints a deprecation notice: keep only real errors.
if ! out=$(docker build -q --target prepublished --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$TAG" . 2>&1); then
  echo "$out" >&2
  exit 1
fi
# A rebuild moves the tag; drop the image it leaves behind (unless a container still uses it).
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$TAG")" ]; then docker rmi "$previous" >/dev/null 2>&1 || true; fi
echo "image $TAG built in $((SECONDS - T2)) s ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1 / 1e6}'))"

# The RaftMall node image.
#   With a registry (the conventional multi-stage build):  docker build -t raftmall/node .
#   Offline, on this machine's own .NET runtime:           deploy/build-offline-image.sh   (README, "Containers")
# A node is configured through environment variables; n1 of three, for example:
#   RaftMall__Node=n1
#   RaftMall__Nodes__0__Id=n1  RaftMall__Nodes__0__Address=http://n1:7101   (the same for n2 and n3)
# It listens on 7101 and keeps its log and snapshots in /data/<node id>: mount a volume on /data.
# Health probe (no curl in the image): dotnet /app/healthcheck/healthcheck.dll  (GET /health/ready).
#
# The stages are in this order for Docker's legacy builder, which builds every stage up to the target:
# `--target prepublished` then never needs the SDK image.
ARG BASE_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0

FROM ${BASE_IMAGE} AS runtime
WORKDIR /app
# ASPNETCORE_HTTP_PORTS is cleared because the node binds RaftMall__Listen itself.
ENV RaftMall__Listen=http://0.0.0.0:7101 \
    RaftMall__DataDirectory=/data \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 7101
ENTRYPOINT ["dotnet", "RaftNode.dll"]

# Offline: what build-offline-image.sh published into deploy/publish/app (in a clean clone only empty placeholders).
FROM runtime AS prepublished
COPY --chown=1654:1654 deploy/publish/data/ /data/
COPY deploy/publish/app/ /app/
USER $APP_UID

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/MallStateMachine/RaftMall.StateMachine.csproj src/MallStateMachine/
COPY src/RaftClient/RaftMall.Contract/RaftMall.Contract.csproj src/RaftClient/RaftMall.Contract/
COPY src/RaftClient/RaftMall.Configuration/RaftMall.Configuration.csproj src/RaftClient/RaftMall.Configuration/
COPY src/RaftClient/RaftMall.Harness/RaftMall.Harness.csproj src/RaftClient/RaftMall.Harness/
COPY src/RaftNode/RaftNode.csproj src/RaftNode/
COPY deploy/healthcheck/HealthCheck.csproj deploy/healthcheck/
ARG TARGETARCH
RUN dotnet restore src/RaftNode/RaftNode.csproj -r "linux-$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)" \
    && dotnet restore deploy/healthcheck/HealthCheck.csproj
COPY src/ src/
COPY deploy/healthcheck/ deploy/healthcheck/
# ReadyToRun (as deploy/build-offline-image.sh): no JIT compiling of the leader's paths at a node's first leadership.
RUN dotnet publish src/RaftNode/RaftNode.csproj -c Release --no-restore -p:UseAppHost=false -o /out/app \
      -r "linux-$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)" --self-contained false -p:PublishReadyToRun=true \
    && dotnet publish deploy/healthcheck/HealthCheck.csproj -c Release --no-restore -p:UseAppHost=false -o /out/app/healthcheck \
    && mkdir /out/data

# The default target: the conventional build.
FROM runtime AS node
COPY --from=build --chown=1654:1654 /out/data/ /data/
COPY --from=build /out/app/ /app/
USER $APP_UID

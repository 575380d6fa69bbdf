# The silo image deploy/k8s runs (ghcr.io/broker/broker-silo). From the repository root:
#   docker build -t ghcr.io/broker/broker-silo:0.1.0 .
# It runs as uid 10001 and writes nothing outside /tmp, which is what the Deployment's security
# context (runAsUser 10001, readOnlyRootFilesystem, a /tmp emptyDir) requires;
# tests/Broker.Silo.Tests/Hosting/PostgresLockedDownSiloTests runs the silo the same way without a
# container. Base images are pinned to the SDK and runtime the project is built and tested with.
FROM mcr.microsoft.com/dotnet/sdk:10.0.401 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN dotnet publish src/Broker.Silo/Broker.Silo.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0.12
WORKDIR /app
COPY --from=build /app ./
# HOME points nowhere: nothing may depend on a writable home directory.
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    HOME=/nonexistent \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
USER 10001:10001
EXPOSE 8080
# The management listener (/metrics, /healthz, /readyz) when Broker__Management__Port=9090, as deploy/k8s sets it.
EXPOSE 9090
# Orleans silo-to-silo traffic (Broker__Cluster__SiloPort, default 11111).
EXPOSE 11111
ENTRYPOINT ["dotnet", "Broker.Silo.dll"]

using System.Text.Json;
using System.Text.RegularExpressions;

namespace Broker.Deploy.Tests;

/// <summary>
/// /metrics names tenants and connections, so it never leaves the cluster (docs/design.md §5): the silos serve it
/// on the container port <c>management</c>, which the ConfigMap makes the silo's management port, which
/// Prometheus scrapes on the pods, and which no Service port and so no Ingress backend reaches.
/// </summary>
public sealed partial class ManagementPortTests
{
    public static TheoryData<string> Renders => new() { "base", "dev", "prod" };

    [Theory]
    [MemberData(nameof(Renders))]
    public void The_silo_declares_the_management_port_and_the_config_map_sets_it(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var ports = Rendered.SiloContainer(rendered.SiloDeployment).Array("ports").ToList();

        var management = ManagementPort(rendered);
        Assert.Equal(9090, management);
        Assert.Equal("TCP", ports.Single(p => p.Str("name") == "management").Str("protocol") ?? "TCP");
        Assert.Equal($"{management}", rendered.SiloSettings()["Broker__Management__Port"]);
        Assert.DoesNotContain(ports, p => p.Str("name") != "management" && p.Int("containerPort") == management);
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void No_service_exposes_the_management_port(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var management = ManagementPort(rendered);
        foreach (var service in rendered.OfKind("Service"))
        {
            foreach (var port in service.Array("spec.ports"))
            {
                Assert.True(!rendered.TargetsOf(service, port).Contains(management),
                    $"{overlay}: {Json.Describe(service)} port {port.Str("name") ?? port.Int("port")?.ToString()} reaches the silos' management port {management}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void No_ingress_backend_reaches_the_management_port(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var management = ManagementPort(rendered);
        foreach (var ingress in rendered.OfKind("Ingress"))
        {
            var backends = ingress.Array("spec.rules").SelectMany(r => r.Array("http.paths")).Select(p => p.Path("backend")).ToList();
            if (ingress.TryPath("spec.defaultBackend", out var defaultBackend))
                backends.Add(defaultBackend);
            Assert.NotEmpty(backends);
            foreach (var backend in backends)
            {
                var name = backend.Str("service.name");
                Assert.True(name is not null, $"{overlay}: {Json.Describe(ingress)} has a backend that is not a Service: {backend}");
                var service = rendered.Get("Service", name);
                var wanted = backend.Path("service.port");
                var servicePort = Assert.Single(service.Array("spec.ports"), p =>
                    (wanted.Str("name") is { } portName && p.Str("name") == portName) || (wanted.Int("number") is { } n && p.Int("port") == n));
                Assert.True(!rendered.TargetsOf(service, servicePort).Contains(management),
                    $"{overlay}: {Json.Describe(ingress)} routes to {name} port {wanted}, which reaches the silos' management port {management}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Prometheus_scrapes_the_pods_on_the_management_port(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var annotations = rendered.SiloDeployment.Map("spec.template.metadata.annotations");

        Assert.Equal("true", annotations.GetValueOrDefault("prometheus.io/scrape"));
        Assert.Equal($"{ManagementPort(rendered)}", annotations.GetValueOrDefault("prometheus.io/port"));
        Assert.Equal("/metrics", annotations.GetValueOrDefault("prometheus.io/path"));
        // Never the migration Job's pods: they do not serve at all.
        Assert.False(rendered.MigrationJob.Map("spec.template.metadata.annotations").ContainsKey("prometheus.io/scrape"));
    }

    [Fact]
    public void The_image_exposes_the_management_port()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Repo.Root, "Dockerfile"));
        var exposed = ExposeLine().Matches(dockerfile).SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

        Assert.Contains($"{ManagementPort(Rendered.Of("base"))}", exposed);
    }

    /// <summary>The containerPort of the silo container's port named <c>management</c>.</summary>
    private static long ManagementPort(Rendered rendered)
    {
        var port = Assert.Single(Rendered.SiloContainer(rendered.SiloDeployment).Array("ports"), p => p.Str("name") == "management");
        return port.Int("containerPort") ?? throw new Xunit.Sdk.XunitException($"{rendered.Name}: the management port has no containerPort");
    }

    [GeneratedRegex(@"(?m)^EXPOSE\s+([\d ]+?)\s*$")]
    private static partial Regex ExposeLine();
}

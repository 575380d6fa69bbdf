namespace Broker.Deploy.Tests;

/// <summary>
/// The silos form one Orleans cluster (docs/design.md §2, §4): each listens on the silo port the ConfigMap
/// names, advertises its pod IP and names itself after its pod through the downward API, and the
/// silo port stays pod to pod: no Service exposes it, so no Ingress can route to it.
/// </summary>
public sealed class ClusterWiringTests
{
    public static TheoryData<string> Renders => new() { "base", "dev", "prod" };

    [Theory]
    [MemberData(nameof(Renders))]
    public void The_silo_port_is_declared_and_configured(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var settings = rendered.SiloSettings();

        Assert.Equal($"{SiloPort(rendered)}", settings["Broker__Cluster__SiloPort"]);
        Assert.False(string.IsNullOrEmpty(settings.GetValueOrDefault("Broker__Cluster__ClusterId")));
        Assert.False(string.IsNullOrEmpty(settings.GetValueOrDefault("Broker__Cluster__ServiceId")));
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Each_silo_advertises_its_pod_ip_and_pod_name(string overlay)
    {
        var env = Rendered.SiloContainer(Rendered.Of(overlay).SiloDeployment).Array("env").ToList();

        Assert.Equal("status.podIP", Assert.Single(env, e => e.Str("name") == "Broker__Cluster__AdvertisedAddress").Str("valueFrom.fieldRef.fieldPath"));
        Assert.Equal("metadata.name", Assert.Single(env, e => e.Str("name") == "Broker__Cluster__SiloName").Str("valueFrom.fieldRef.fieldPath"));
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void No_service_exposes_the_silo_port(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var silo = SiloPort(rendered);
        foreach (var service in rendered.OfKind("Service"))
        {
            foreach (var port in service.Array("spec.ports"))
                Assert.DoesNotContain(silo, rendered.TargetsOf(service, port));
        }
    }

    [Fact]
    public void The_image_exposes_the_silo_port()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Repo.Root, "Dockerfile"));

        Assert.Matches($@"(?m)^EXPOSE\s+{SiloPort(Rendered.Of("base"))}\s*$", dockerfile);
    }

    private static long SiloPort(Rendered rendered) =>
        Assert.Single(Rendered.SiloContainer(rendered.SiloDeployment).Array("ports"), p => p.Str("name") == "silo").Int("containerPort")
        ?? throw new Xunit.Sdk.XunitException($"{rendered.Name}: the silo port has no containerPort");
}

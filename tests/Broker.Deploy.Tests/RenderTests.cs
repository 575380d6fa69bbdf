namespace Broker.Deploy.Tests;

/// <summary>The base and both overlays render with kubectl's kustomize and hold the objects docs/design.md §1 and issue 5 ask for.</summary>
public sealed class RenderTests
{
    [Theory]
    [InlineData("base")]
    [InlineData("dev")]
    [InlineData("prod")]
    public void Renders_without_warnings(string overlay)
    {
        var rendered = Rendered.Of(overlay);

        Assert.NotEmpty(rendered.Objects);
        // Deprecated kustomization fields (bases, commonLabels, patchesStrategicMerge, ...) print
        // warnings; keep the files on the current syntax.
        Assert.True(string.IsNullOrWhiteSpace(rendered.Warnings), $"{overlay}: kubectl kustomize printed:\n{rendered.Warnings}");
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public void Overlay_holds_every_kind_of_object(string overlay)
    {
        var kinds = Rendered.Of(overlay).Objects.Select(o => o.Str("kind")).ToHashSet();

        foreach (var kind in new[] { "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Job" })
            Assert.True(kinds.Contains(kind), $"{overlay}: no {kind} among {string.Join(", ", kinds)}");
        if (overlay == "dev")
            Assert.Contains("StatefulSet", kinds);
        else
            Assert.DoesNotContain("StatefulSet", kinds);
    }

    [Theory]
    [InlineData("base")]
    [InlineData("dev")]
    [InlineData("prod")]
    public void Every_object_carries_the_recommended_labels(string overlay)
    {
        foreach (var o in Rendered.Of(overlay).Objects)
        {
            var labels = o.Map("metadata.labels");
            foreach (var key in new[] { "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component", "app.kubernetes.io/part-of" })
                Assert.True(labels.ContainsKey(key), $"{overlay}: {Json.Describe(o)} has no label {key}");
            Assert.Equal("broker", labels["app.kubernetes.io/part-of"]);
        }
    }

    [Fact]
    public void Prod_and_dev_differ_where_they_should()
    {
        var dev = Rendered.Of("dev");
        var prod = Rendered.Of("prod");

        Assert.Equal("true", dev.SiloSettings()["Broker__AllowHttpUpstreams"]);
        Assert.Equal("false", prod.SiloSettings()["Broker__AllowHttpUpstreams"]);
        Assert.Equal("false", Rendered.Of("base").SiloSettings()["Broker__AllowHttpUpstreams"]);
        Assert.All(new[] { dev, prod }, r => Assert.Equal("Postgres", r.SiloSettings()["Broker__Storage"]));

        // Production silos get more than the base's (and so dev's) resources.
        decimal Cpu(Rendered r) => Json.Quantity(Rendered.SiloContainer(r.SiloDeployment).Str("resources.requests.cpu")!);
        decimal Memory(Rendered r) => Json.Quantity(Rendered.SiloContainer(r.SiloDeployment).Str("resources.limits.memory")!);
        Assert.True(Cpu(prod) > Cpu(dev), "prod silo CPU request should exceed dev's");
        Assert.True(Memory(prod) > Memory(dev), "prod silo memory limit should exceed dev's");

        // Prod: TLS at the ingress for exactly the host it serves.
        var ingress = prod.Get("Ingress", "broker-silo");
        var hosts = ingress.Array("spec.rules").Select(r => r.Str("host")).ToList();
        var tlsHosts = ingress.Array("spec.tls").SelectMany(t => t.Array("hosts")).Select(h => h.GetString()).ToList();
        Assert.NotEmpty(tlsHosts);
        Assert.Equal(hosts.OrderBy(h => h), tlsHosts.OrderBy(h => h));
        Assert.All(ingress.Array("spec.tls"), t => Assert.False(string.IsNullOrEmpty(t.Str("secretName"))));
    }

    [Theory]
    [InlineData("base")]
    [InlineData("dev")]
    [InlineData("prod")]
    public void Public_base_url_is_the_ingress_host(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var publicBaseUrl = new Uri(rendered.SiloSettings()["Broker__PublicBaseUrl"]);
        var hosts = rendered.Get("Ingress", "broker-silo").Array("spec.rules").Select(r => r.Str("host")).ToList();

        Assert.Equal([publicBaseUrl.Host], hosts);
        if (overlay != "dev")
            Assert.Equal("https", publicBaseUrl.Scheme);
    }
}

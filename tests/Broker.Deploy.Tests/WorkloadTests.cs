using System.Text.Json;

namespace Broker.Deploy.Tests;

/// <summary>The pods: probes, drain timing, security context, images, resources, the migration Job.</summary>
public sealed class WorkloadTests
{
    public static TheoryData<string> Renders => new() { "base", "dev", "prod" };

    [Theory]
    [MemberData(nameof(Renders))]
    public void Silo_has_three_replicas_or_the_overlays_count_and_port_8080(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var deployment = rendered.SiloDeployment;
        var container = Rendered.SiloContainer(deployment);

        var replicas = deployment.Int("spec.replicas");
        Assert.Equal(overlay == "dev" ? 2 : 3, replicas);
        var port = Assert.Single(container.Array("ports"), p => p.Str("name") == "http");
        Assert.Equal(8080, port.Int("containerPort"));
        Assert.Equal("http://+:8080", rendered.SiloSettings()["ASPNETCORE_URLS"]);
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Probes_ask_readyz_and_healthz_on_the_container_port(string overlay)
    {
        var container = Rendered.SiloContainer(Rendered.Of(overlay).SiloDeployment);

        AssertHttpProbe(container, "readinessProbe", "/readyz");
        AssertHttpProbe(container, "livenessProbe", "/healthz");
        if (container.TryPath("startupProbe", out _))
            AssertHttpProbe(container, "startupProbe", "/healthz");

        // Sensible timing: readiness reacts within seconds, liveness is more patient than readiness.
        var readiness = container.Path("readinessProbe");
        var liveness = container.Path("livenessProbe");
        Assert.InRange(readiness.Int("periodSeconds") ?? 10, 1, 10);
        Assert.InRange(liveness.Int("periodSeconds") ?? 10, 5, 60);
        Assert.True((liveness.Int("failureThreshold") ?? 3) * (liveness.Int("periodSeconds") ?? 10)
                    > (readiness.Int("failureThreshold") ?? 3) * (readiness.Int("periodSeconds") ?? 10),
            "liveness should give up later than readiness");
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Grace_period_covers_the_prestop_sleep_and_the_15_second_drain(string overlay)
    {
        var spec = Rendered.Of(overlay).SiloDeployment.Path("spec.template.spec");
        var container = Rendered.SiloContainer(Rendered.Of(overlay).SiloDeployment);

        var preStop = PreStopSleepSeconds(container.Path("lifecycle.preStop"));
        var grace = spec.Int("terminationGracePeriodSeconds") ?? 30;
        Assert.InRange(preStop, 3, 10);
        Assert.True(grace >= preStop + 15, $"{overlay}: terminationGracePeriodSeconds {grace} < preStop {preStop} + 15 s drain");
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Every_pod_runs_non_root_with_a_read_only_root(string overlay)
    {
        foreach (var (id, template) in Rendered.Of(overlay).PodTemplates())
        {
            var pod = template.Path("spec");
            Assert.NotEqual(true, pod.Bool("hostNetwork"));
            Assert.NotEqual(true, pod.Bool("hostPID"));
            foreach (var container in pod.Array("initContainers").Concat(pod.Array("containers")))
            {
                var where = $"{overlay}: {id} container {container.Str("name")}";
                bool? Effective(string path) => container.Bool($"securityContext.{path}") ?? pod.Bool($"securityContext.{path}");
                Assert.True(Effective("runAsNonRoot") == true, $"{where}: runAsNonRoot");
                var user = container.Int("securityContext.runAsUser") ?? pod.Int("securityContext.runAsUser");
                Assert.True(user is > 0, $"{where}: runAsUser must be a non-zero uid");
                Assert.True(container.Bool("securityContext.readOnlyRootFilesystem") == true, $"{where}: readOnlyRootFilesystem");
                Assert.True(container.Bool("securityContext.allowPrivilegeEscalation") == false, $"{where}: allowPrivilegeEscalation");
                Assert.NotEqual(true, container.Bool("securityContext.privileged"));
                Assert.True(container.Array("securityContext.capabilities.drop").Any(c => c.GetString() == "ALL"), $"{where}: capabilities drop ALL");
                Assert.Empty(container.Array("securityContext.capabilities.add"));
                var seccomp = container.Str("securityContext.seccompProfile.type") ?? pod.Str("securityContext.seccompProfile.type");
                Assert.True(seccomp == "RuntimeDefault", $"{where}: seccompProfile {seccomp ?? "(none)"}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Silo_and_migration_run_as_10001_with_a_writable_tmp(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        foreach (var workload in new[] { rendered.SiloDeployment, rendered.MigrationJob })
        {
            var pod = workload.Path("spec.template.spec");
            var container = Rendered.SiloContainer(workload);
            Assert.Equal(10001, container.Int("securityContext.runAsUser") ?? pod.Int("securityContext.runAsUser"));
            var tmp = container.Array("volumeMounts").SingleOrDefault(m => m.Str("mountPath") == "/tmp");
            Assert.True(tmp.ValueKind == JsonValueKind.Object, $"{Json.Describe(workload)}: no volume at /tmp");
            var volume = pod.Array("volumes").Single(v => v.Str("name") == tmp.Str("name"));
            Assert.True(volume.TryPath("emptyDir", out _), $"{Json.Describe(workload)}: /tmp is not an emptyDir");
        }
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Every_image_is_pinned(string overlay)
    {
        foreach (var (id, template) in Rendered.Of(overlay).PodTemplates())
        {
            foreach (var container in template.Array("spec.initContainers").Concat(template.Array("spec.containers")))
            {
                var image = container.Str("image") ?? "";
                Assert.True(IsPinned(image), $"{overlay}: {id} runs `{image}`: pin a tag other than latest, or a digest");
            }
        }
    }

    [Theory]
    [InlineData("ghcr.io/broker/broker-silo:0.1.0", true)]
    [InlineData("postgres:16.6", true)]
    [InlineData("localhost:5000/broker-silo:1.2.3", true)]
    [InlineData("ghcr.io/broker/broker-silo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("ghcr.io/broker/broker-silo", false)]
    [InlineData("ghcr.io/broker/broker-silo:latest", false)]
    [InlineData("localhost:5000/broker-silo", false)]
    [InlineData("postgres:LATEST", false)]
    public void Image_pin_check_tells_tags_from_registry_ports(string image, bool pinned) =>
        Assert.Equal(pinned, IsPinned(image));

    [Theory]
    [MemberData(nameof(Renders))]
    public void Every_container_has_requests_and_limits(string overlay)
    {
        foreach (var (id, template) in Rendered.Of(overlay).PodTemplates())
        {
            foreach (var container in template.Array("spec.initContainers").Concat(template.Array("spec.containers")))
            {
                foreach (var path in new[] { "requests.cpu", "requests.memory", "limits.cpu", "limits.memory" })
                {
                    var value = container.Str($"resources.{path}");
                    Assert.True(value is not null, $"{overlay}: {id} container {container.Str("name")} has no resources.{path}");
                }
                Assert.True(Json.Quantity(container.Str("resources.requests.memory")!) <= Json.Quantity(container.Str("resources.limits.memory")!));
                Assert.True(Json.Quantity(container.Str("resources.requests.cpu")!) <= Json.Quantity(container.Str("resources.limits.cpu")!));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Migration_job_runs_migrate_with_the_silos_image_and_settings(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var job = rendered.MigrationJob;
        var migrate = Rendered.SiloContainer(job);
        var silo = Rendered.SiloContainer(rendered.SiloDeployment);

        Assert.Equal(["migrate"], migrate.Array("args").Select(a => a.GetString()));
        Assert.False(migrate.TryPath("command", out _), "the image's entrypoint must run, with args [migrate]");
        Assert.Equal(silo.Str("image"), migrate.Str("image"));
        Assert.InRange(job.Int("spec.backoffLimit") ?? -1, 1, 10);
        Assert.True(job.Int("spec.ttlSecondsAfterFinished") is > 0, "ttlSecondsAfterFinished");
        Assert.Contains(job.Str("spec.template.spec.restartPolicy"), new[] { "Never", "OnFailure" });
        // The same settings: start-up checks every key before it migrates.
        Assert.Equal(EnvSources(silo), EnvSources(migrate));
        Assert.Equal(silo.Path("securityContext").ToString(), migrate.Path("securityContext").ToString());
        Assert.Equal(rendered.SiloDeployment.Path("spec.template.spec.securityContext").ToString(),
            job.Path("spec.template.spec.securityContext").ToString());
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Autoscaler_and_disruption_budget_keep_enough_silos(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var hpa = rendered.Get("HorizontalPodAutoscaler", "broker-silo");
        var pdb = rendered.Get("PodDisruptionBudget", "broker-silo");

        Assert.Equal("autoscaling/v2", hpa.Str("apiVersion"));
        var min = hpa.Int("spec.minReplicas") ?? 1;
        var max = hpa.Int("spec.maxReplicas") ?? 0;
        if (overlay != "dev")
        {
            Assert.Equal(3, min);
            Assert.Equal(10, max);
        }
        Assert.InRange(min, 2, max);
        Assert.InRange(rendered.SiloDeployment.Int("spec.replicas") ?? 1, min, max);
        var cpu = Assert.Single(hpa.Array("spec.metrics"));
        Assert.Equal("cpu", cpu.Str("resource.name"));
        Assert.Equal("Utilization", cpu.Str("resource.target.type"));
        Assert.Equal(70, cpu.Int("resource.target.averageUtilization"));

        // Voluntary disruptions take at most one silo at a time.
        var maxUnavailable = pdb.TryPath("spec.maxUnavailable", out var mu) ? mu.ToString() : null;
        var minAvailable = pdb.Int("spec.minAvailable");
        Assert.True(maxUnavailable == "1" || minAvailable >= 2, $"{overlay}: PDB should be maxUnavailable 1 or minAvailable >= 2");
    }

    private static void AssertHttpProbe(JsonElement container, string probe, string path)
    {
        var get = container.Path($"{probe}.httpGet");
        Assert.Equal(path, get.Str("path"));
        var ports = container.Array("ports").ToList();
        var port = get.Path("port");
        var matches = port.ValueKind == JsonValueKind.Number
            ? ports.Any(p => p.Int("containerPort") == port.GetInt64())
            : ports.Any(p => p.Str("name") == port.GetString());
        Assert.True(matches, $"{probe} port {port} is not a port of container {container.Str("name")}");
        Assert.Equal(8080, port.ValueKind == JsonValueKind.Number ? port.GetInt64() : ports.Single(p => p.Str("name") == port.GetString()).Int("containerPort"));
    }

    /// <summary>The preStop hook's delay: Kubernetes' sleep action, or an exec of sleep.</summary>
    private static long PreStopSleepSeconds(JsonElement preStop)
    {
        if (preStop.Int("sleep.seconds") is { } seconds)
            return seconds;
        var command = string.Join(' ', preStop.Array("exec.command").Select(c => c.GetString()));
        var match = System.Text.RegularExpressions.Regex.Match(command, @"\bsleep\s+(\d+)");
        Assert.True(match.Success, $"preStop is neither a sleep action nor `sleep N`: {preStop}");
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A tag other than latest, or a digest. The tag is after the last ':' of the last path segment (a registry may have a port).</summary>
    public static bool IsPinned(string image)
    {
        if (image.Contains("@sha256:", StringComparison.Ordinal))
            return true;
        var lastSegment = image[(image.LastIndexOf('/') + 1)..];
        var colon = lastSegment.LastIndexOf(':');
        if (colon < 0)
            return false;
        var tag = lastSegment[(colon + 1)..];
        return tag.Length > 0 && !tag.Equals("latest", StringComparison.OrdinalIgnoreCase);
    }

    private static string EnvSources(JsonElement container) =>
        container.Path("envFrom").ToString() + container.Path("env").ToString();
}

using System.Text.Json;

namespace Broker.Deploy.Tests;

/// <summary>Every selector and reference lands where it should: Services, PDB and HPA on the silo pods, the
/// Ingress on the Service, and the migration Job's pods on nothing that serves traffic.</summary>
public sealed class WiringTests
{
    public static TheoryData<string> Renders => new() { "base", "dev", "prod" };

    [Theory]
    [MemberData(nameof(Renders))]
    public void Workload_selectors_match_their_pod_template_labels(string overlay)
    {
        foreach (var kind in new[] { "Deployment", "StatefulSet" })
        {
            foreach (var workload in Rendered.Of(overlay).OfKind(kind))
            {
                var selector = workload.Map("spec.selector.matchLabels");
                var labels = workload.Map("spec.template.metadata.labels");
                Assert.False(workload.TryPath("spec.selector.matchExpressions", out _), "matchExpressions are not checked here: use matchLabels");
                Assert.True(Json.Selects(selector, labels), $"{overlay}: {Json.Describe(workload)} selector {Show(selector)} does not match its pods {Show(labels)}");
                // The recommended labels, on the pods too.
                Assert.All(new[] { "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component", "app.kubernetes.io/part-of" },
                    key => Assert.True(labels.ContainsKey(key), $"{Json.Describe(workload)} pods lack {key}"));
                foreach (var spread in workload.Array("spec.template.spec.topologySpreadConstraints"))
                    Assert.True(Json.Selects(spread.Map("labelSelector.matchLabels"), labels), $"{Json.Describe(workload)}: a topology spread constraint misses its own pods");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Services_select_exactly_the_pods_that_serve_them(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var templates = rendered.PodTemplates().ToList();
        foreach (var service in rendered.OfKind("Service"))
        {
            var selector = service.Map("spec.selector");
            var selected = templates.Where(t => Json.Selects(selector, t.PodTemplate.Map("metadata.labels"))).ToList();
            var selectedIds = string.Join(", ", selected.Select(s => s.Id));
            // One workload's pods: never the migration Job's (same image, same port) as well as the silos'.
            Assert.True(selected.Count == 1 && !selected[0].Id.StartsWith("Job/", StringComparison.Ordinal),
                $"{overlay}: {Json.Describe(service)} selector {Show(selector)} selects [{selectedIds}]; it must select exactly one long-running workload");
            var (_, template) = selected[0];
            foreach (var port in service.Array("spec.ports"))
            {
                var target = port.TryPath("targetPort", out var t) ? t : port.Path("port");
                var containerPorts = template.Array("spec.containers").SelectMany(c => c.Array("ports")).ToList();
                var found = target.ValueKind == JsonValueKind.Number
                    ? containerPorts.Any(p => p.Int("containerPort") == target.GetInt64())
                    : containerPorts.Any(p => p.Str("name") == target.GetString());
                Assert.True(found, $"{overlay}: {Json.Describe(service)} targets port {target}, which {selectedIds} does not expose");
            }
        }

        var silo = rendered.Get("Service", "broker-silo");
        Assert.Equal("ClusterIP", silo.Str("spec.type") ?? "ClusterIP");
        var http = Assert.Single(silo.Array("spec.ports"));
        Assert.Equal(80, http.Int("port"));
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Disruption_budget_and_autoscaler_target_the_silos(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var siloLabels = rendered.SiloDeployment.Map("spec.template.metadata.labels");

        var pdb = rendered.Get("PodDisruptionBudget", "broker-silo");
        Assert.True(Json.Selects(pdb.Map("spec.selector.matchLabels"), siloLabels), "the PDB does not select the silo pods");
        Assert.False(Json.Selects(pdb.Map("spec.selector.matchLabels"), rendered.MigrationJob.Map("spec.template.metadata.labels")),
            "the PDB also selects the migration Job's pods");

        var target = rendered.Get("HorizontalPodAutoscaler", "broker-silo").Path("spec.scaleTargetRef");
        Assert.Equal("Deployment", target.Str("kind"));
        Assert.Equal("apps/v1", target.Str("apiVersion"));
        Assert.Equal(rendered.SiloDeployment.Str("metadata.name"), target.Str("name"));
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Ingress_routes_everything_to_the_silo_service(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var service = rendered.Get("Service", "broker-silo");
        var rule = Assert.Single(rendered.Get("Ingress", "broker-silo").Array("spec.rules"));
        Assert.False(string.IsNullOrEmpty(rule.Str("host")));
        var path = Assert.Single(rule.Array("http.paths"));

        Assert.Equal("/", path.Str("path"));
        Assert.Equal("Prefix", path.Str("pathType"));
        Assert.Equal("broker-silo", path.Str("backend.service.name"));
        var port = path.Path("backend.service.port");
        Assert.Contains(service.Array("spec.ports"), p =>
            (port.Str("name") is { } name && p.Str("name") == name) || (port.Int("number") is { } n && p.Int("port") == n));
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void Referenced_config_maps_exist_and_secrets_exist_unless_the_operator_makes_them(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var configMaps = rendered.OfKind("ConfigMap").Select(c => c.Str("metadata.name")).ToHashSet();
        var secrets = rendered.OfKind("Secret").Select(c => c.Str("metadata.name")).ToHashSet();
        var operatorSecrets = new HashSet<string?> { "broker-silo", "broker-dataprotection-keys" };
        foreach (var (id, template) in rendered.PodTemplates())
        {
            var spec = template.Path("spec");
            var containers = spec.Array("containers").ToList();
            var configRefs = containers.SelectMany(c => c.Array("envFrom")).Select(e => e.Str("configMapRef.name"))
                .Concat(spec.Array("volumes").Select(v => v.Str("configMap.name"))).Where(n => n is not null);
            var secretRefs = containers.SelectMany(c => c.Array("envFrom")).Select(e => e.Str("secretRef.name"))
                .Concat(containers.SelectMany(c => c.Array("env")).Select(e => e.Str("valueFrom.secretKeyRef.name")))
                .Concat(spec.Array("volumes").Select(v => v.Str("secret.secretName"))).Where(n => n is not null);
            foreach (var name in configRefs)
                Assert.True(configMaps.Contains(name), $"{overlay}: {id} uses ConfigMap {name}, which is not rendered");
            foreach (var name in secretRefs)
            {
                // Dev generates every Secret; prod (and the base) leave them to the operator.
                if (overlay == "dev")
                    Assert.True(secrets.Contains(name), $"dev: {id} uses Secret {name}, which the overlay does not generate");
                else
                    Assert.True(operatorSecrets.Contains(name), $"{overlay}: {id} uses Secret {name}; docs/operations.md names only {string.Join(", ", operatorSecrets)}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Renders))]
    public void What_the_migration_job_needs_is_selectable_before_it(string overlay)
    {
        // docs/operations.md applies `component in (config, database)` first, then the Job, then the rest.
        var rendered = Rendered.Of(overlay);
        var early = new HashSet<string?> { "config", "database" };
        var pod = rendered.MigrationJob.Path("spec.template.spec");
        var container = Rendered.SiloContainer(rendered.MigrationJob);
        var needs = new List<(string Kind, string? Name)> { ("ServiceAccount", pod.Str("serviceAccountName")) };
        needs.AddRange(container.Array("envFrom").Select(e => ("ConfigMap", e.Str("configMapRef.name"))).Where(n => n.Item2 is not null));
        needs.AddRange(container.Array("env").Select(e => ("Secret", e.Str("valueFrom.secretKeyRef.name"))).Where(n => n.Item2 is not null));
        needs.AddRange(pod.Array("volumes").Select(v => ("Secret", v.Str("secret.secretName"))).Where(n => n.Item2 is not null));
        foreach (var (kind, name) in needs.Distinct())
        {
            var found = rendered.OfKind(kind).Where(o => o.Str("metadata.name") == name).ToList();
            if (found.Count == 0 && kind == "Secret" && overlay != "dev")
                continue; // made by the operator before the first apply
            var o = Assert.Single(found);
            Assert.True(early.Contains(o.Map("metadata.labels").GetValueOrDefault("app.kubernetes.io/component")),
                $"{overlay}: the migration Job needs {kind}/{name}, which is not labelled component=config or database");
        }
        foreach (var database in rendered.OfKind("StatefulSet").Concat(rendered.OfKind("Service")).Where(o => o.Str("metadata.name")!.Contains("postgres")))
            Assert.Equal("database", database.Map("metadata.labels")["app.kubernetes.io/component"]);
    }

    private static string Show(IReadOnlyDictionary<string, string> labels) =>
        "{" + string.Join(", ", labels.Select(l => $"{l.Key}={l.Value}")) + "}";
}

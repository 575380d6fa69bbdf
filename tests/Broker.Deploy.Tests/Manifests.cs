using System.Collections.Concurrent;
using System.Text.Json;

namespace Broker.Deploy.Tests;

/// <summary>One rendered kustomization (deploy/k8s/base or an overlay) as JSON objects, rendered once per test run.</summary>
public sealed class Rendered
{
    private static readonly ConcurrentDictionary<string, Lazy<Rendered>> Cache = new();

    private Rendered(string name, string directory)
    {
        Name = name;
        Directory = directory;
        (Yaml, Warnings) = Kubectl.Kustomize(directory);
        Objects = Kubectl.ToJson(Yaml);
    }

    /// <summary>"base", "dev" or "prod".</summary>
    public string Name { get; }
    public string Directory { get; }
    public string Yaml { get; }
    /// <summary>What kubectl printed on stderr while rendering (deprecation warnings and the like).</summary>
    public string Warnings { get; }
    public IReadOnlyList<JsonElement> Objects { get; }

    public static Rendered Of(string name) =>
        Cache.GetOrAdd(name, n => new Lazy<Rendered>(() => new Rendered(n, Repo.KustomizationDirectory(n)))).Value;

    public IEnumerable<JsonElement> OfKind(string kind) => Objects.Where(o => o.Str("kind") == kind);

    public JsonElement Get(string kind, string name)
    {
        var matches = OfKind(kind).Where(o => o.Str("metadata.name") == name).ToList();
        Assert.True(matches.Count == 1, $"{Name}: expected exactly one {kind} named {name}, found {matches.Count}");
        return matches[0];
    }

    public JsonElement SiloDeployment => Get("Deployment", "broker-silo");
    public JsonElement MigrationJob => Get("Job", "broker-migrate");

    public static JsonElement SiloContainer(JsonElement workload) =>
        workload.Path("spec.template.spec.containers").EnumerateArray().First();

    /// <summary>Every workload that has a pod template: Deployments, StatefulSets, Jobs (and DaemonSets, CronJobs' job templates).</summary>
    public IEnumerable<(string Id, JsonElement PodTemplate)> PodTemplates()
    {
        foreach (var o in Objects)
        {
            var id = $"{o.Str("kind")}/{o.Str("metadata.name")}";
            switch (o.Str("kind"))
            {
                case "Deployment" or "StatefulSet" or "DaemonSet" or "Job" or "ReplicaSet":
                    yield return (id, o.Path("spec.template"));
                    break;
                case "CronJob":
                    yield return (id, o.Path("spec.jobTemplate.spec.template"));
                    break;
                case "Pod":
                    yield return (id, o);
                    break;
            }
        }
    }

    /// <summary>The data of the ConfigMap the silo takes its settings from (the generated name carries a hash).</summary>
    /// <summary>The container ports a Service port sends traffic to, on every pod template the Service selects:
    /// its targetPort by number, or by name as each container names its ports (the port itself when it has none).</summary>
    public HashSet<long> TargetsOf(JsonElement service, JsonElement servicePort)
    {
        var target = servicePort.TryPath("targetPort", out var t) ? t : servicePort.Path("port");
        var selector = service.Map("spec.selector");
        var containerPorts = PodTemplates()
            .Where(p => Json.Selects(selector, p.PodTemplate.Map("metadata.labels")))
            .SelectMany(p => p.PodTemplate.Array("spec.containers")).SelectMany(c => c.Array("ports"));
        return target.ValueKind == JsonValueKind.Number
            ? [target.GetInt64()]
            : [.. containerPorts.Where(p => p.Str("name") == target.GetString()).Select(p => p.Int("containerPort") ?? 0)];
    }

    public IReadOnlyDictionary<string, string> SiloSettings()
    {
        var name = SiloContainer(SiloDeployment).Path("envFrom").EnumerateArray()
            .Select(e => e.Str("configMapRef.name")).Single(n => n is not null)!;
        return Get("ConfigMap", name).Map("data");
    }
}

public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string KustomizationDirectory(string name) =>
        name == "base" ? Path.Combine(Root, "deploy", "k8s", "base") : Path.Combine(Root, "deploy", "k8s", "overlays", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.Directory.Exists(Path.Combine(dir.FullName, "deploy", "k8s", "base")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no deploy/k8s/base above {AppContext.BaseDirectory}");
    }
}

/// <summary>Small readers for Kubernetes objects as JSON: dotted paths, label maps, quantities.</summary>
public static class Json
{
    public static bool TryPath(this JsonElement element, string path, out JsonElement value)
    {
        value = element;
        foreach (var part in path.Split('.'))
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(part, out value))
                return false;
        }
        return true;
    }

    public static JsonElement Path(this JsonElement element, string path) =>
        element.TryPath(path, out var value)
            ? value
            : throw new Xunit.Sdk.XunitException($"missing `{path}` in {Describe(element)}");

    public static string? Str(this JsonElement element, string path) =>
        element.TryPath(path, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static long? Int(this JsonElement element, string path) =>
        element.TryPath(path, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    public static bool? Bool(this JsonElement element, string path) =>
        element.TryPath(path, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    public static IEnumerable<JsonElement> Array(this JsonElement element, string path) =>
        element.TryPath(path, out var value) && value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : [];

    public static IReadOnlyDictionary<string, string> Map(this JsonElement element, string path) =>
        element.TryPath(path, out var value) && value.ValueKind == JsonValueKind.Object
            ? value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString())
            : new Dictionary<string, string>();

    /// <summary>True when a label selector (matchLabels only; matchExpressions are not used here) selects these labels.</summary>
    public static bool Selects(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels) =>
        selector.Count > 0 && selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value);

    public static string Describe(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.Str("kind") is { } kind
            ? $"{kind}/{element.Str("metadata.name")}"
            : element.ToString().Length > 200 ? element.ToString()[..200] + "..." : element.ToString();

    /// <summary>A Kubernetes quantity ("250m", "1", "512Mi", "1Gi") as a number of cores or bytes.</summary>
    public static decimal Quantity(string text)
    {
        var suffixes = new (string Suffix, decimal Factor)[]
        {
            ("Ki", 1024m), ("Mi", 1024m * 1024), ("Gi", 1024m * 1024 * 1024), ("Ti", 1024m * 1024 * 1024 * 1024),
            ("m", 0.001m), ("k", 1e3m), ("M", 1e6m), ("G", 1e9m), ("T", 1e12m),
        };
        foreach (var (suffix, factor) in suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
                return decimal.Parse(text[..^suffix.Length], System.Globalization.CultureInfo.InvariantCulture) * factor;
        }
        return decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Broker.Deploy.Tests;

/// <summary>
/// Runs the kubectl found on PATH (or named by <c>BROKER_KUBECTL</c>) without a cluster:
/// <c>kubectl kustomize DIR</c> renders an overlay to YAML, and
/// <c>kubectl patch --local -f - --type merge -p {} -o json</c> turns that YAML into one JSON
/// object per resource, unchanged (an empty merge patch), so the tests parse JSON with
/// System.Text.Json instead of a YAML reader. A missing or too old kubectl fails every test with
/// a message saying so; nothing is skipped.
/// </summary>
public static class Kubectl
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private static readonly Lazy<string> Executable = new(FindAndCheck);
    // An empty kubeconfig: rendering never needs a cluster, and must not depend on whichever
    // context the person running the tests has selected.
    private static readonly Lazy<string> EmptyKubeconfig = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"broker-deploy-tests-{Environment.ProcessId}.kubeconfig");
        File.WriteAllText(path, "");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return path;
    });

    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    /// <summary>Renders a kustomization directory: its YAML and what kubectl printed on stderr (warnings).</summary>
    public static (string Yaml, string Warnings) Kustomize(string directory)
    {
        var result = Run(["kustomize", directory]);
        if (result.ExitCode != 0)
            throw new InvalidOperationException(
                $"`kubectl kustomize {directory}` failed (exit code {result.ExitCode}):\n{result.StandardError}");
        return (result.StandardOutput, result.StandardError);
    }

    /// <summary>The resources of a multi-document YAML stream as JSON objects, in order.</summary>
    public static IReadOnlyList<JsonElement> ToJson(string yaml)
    {
        var result = Run(["patch", "--local", "-f", "-", "--type", "merge", "-p", "{}", "-o", "json"], yaml);
        if (result.ExitCode != 0)
            throw new InvalidOperationException(
                $"`kubectl patch --local -o json` could not convert the rendered YAML (exit code {result.ExitCode}):\n{result.StandardError}");
        var bytes = Encoding.UTF8.GetBytes(result.StandardOutput);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowMultipleValues = true });
        var items = new List<JsonElement>();
        while (reader.Read())
        {
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement.Clone();
            // kubectl prints a List when it was given one; flatten it.
            if (root.TryGetProperty("kind", out var kind) && kind.GetString() == "List" && root.TryGetProperty("items", out var listItems))
                items.AddRange(listItems.EnumerateArray().Select(i => i.Clone()));
            else
                items.Add(root);
        }
        return items;
    }

    public static Result Run(IReadOnlyList<string> arguments, string? standardInput = null) =>
        Exec(Executable.Value, arguments, standardInput);

    private static string FindAndCheck()
    {
        var path = Find() ?? throw new InvalidOperationException(
            "kubectl was not found (neither BROKER_KUBECTL nor PATH names it). The deploy/k8s tests render the " +
            "kustomize overlays with `kubectl kustomize` and need kubectl 1.21 or later (kustomize v4+); " +
            "scripts/test.sh installs it when it is missing (Debian package kubectl).");
        var version = Exec(path, ["version", "--client", "-o", "json"]);
        if (version.ExitCode != 0)
            throw new InvalidOperationException($"`{path} version --client` failed: {version.StandardError}");
        using var json = JsonDocument.Parse(version.StandardOutput);
        var kustomize = json.RootElement.TryGetProperty("kustomizeVersion", out var k) ? k.GetString() : null;
        var client = json.RootElement.TryGetProperty("clientVersion", out var c) && c.TryGetProperty("gitVersion", out var g) ? g.GetString() : null;
        var major = kustomize is { Length: > 1 } && kustomize[0] == 'v' && int.TryParse(kustomize[1..].Split('.')[0], out var m) ? m : 0;
        if (major < 4)
            throw new InvalidOperationException(
                $"{path} (kubectl {client ?? "of unknown version"}) embeds kustomize {kustomize ?? "v2 or older"}; deploy/k8s needs kustomize v4 or later " +
                "(kubectl 1.21+). Debian 12's kubernetes-client (kubectl 1.20, kustomize v2) is too old.");
        return path;
    }

    private static string? Find()
    {
        var configured = Environment.GetEnvironmentVariable("BROKER_KUBECTL");
        if (!string.IsNullOrEmpty(configured))
            return File.Exists(configured) ? configured : throw new InvalidOperationException($"BROKER_KUBECTL={configured} does not exist");
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "kubectl");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    private static Result Exec(string path, IReadOnlyList<string> arguments, string? standardInput = null)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["KUBECONFIG"] = EmptyKubeconfig.Value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {path}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
            process.StandardInput.Write(standardInput);
        process.StandardInput.Close();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{path} {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s");
        }
        return new Result(process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }
}

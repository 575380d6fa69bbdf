using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Broker.Load.Tests;

/// <summary>Runs Broker.Load as the person running the benchmark would, and reads its one JSON line.</summary>
internal static class LoadRun
{
    public static async Task<JsonObject> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Broker.Load.dll"));
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment.Remove("BROKER_LOAD_PG");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            // SIGINT would let it stop what it started; Kill takes the whole tree at least.
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Broker.Load {string.Join(' ', args)} ran over 2 minutes:\n{await stderr}");
        }
        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"Broker.Load {string.Join(' ', args)} exited with {process.ExitCode}:\n{await stderr}\n{output}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"one JSON line expected on stdout, got:\n{output}");
        var line = JsonNode.Parse(lines[0])!.AsObject();
        AssertDescribesTheRun(line, args[0]);
        return line["result"]!.AsObject();
    }

    private static void AssertDescribesTheRun(JsonObject line, string scenario)
    {
        Assert.Equal(scenario, (string?)line["scenario"]);
        Assert.NotNull(line["options"] as JsonObject);
        Assert.True((int)line["machine"]!["cores"]! > 0);
        Assert.False(string.IsNullOrEmpty((string?)line["machine"]!["kernel"]));
        Assert.StartsWith(".NET ", (string?)line["machine"]!["dotnet"]);
        Assert.False(string.IsNullOrEmpty((string?)line["commit"]));
        Assert.True(DateTimeOffset.TryParse((string?)line["date"], out _));
        Assert.True((double)line["wallSeconds"]! > 0);
    }

    public static void AssertLatency(JsonObject result, params string[] hops)
    {
        foreach (var hop in hops)
        {
            var latency = result["latencyMs"]![hop]!;
            Assert.True((int)latency["count"]! > 0, $"no {hop} samples");
            Assert.True((double)latency["p50"]! <= (double)latency["p95"]! && (double)latency["p95"]! <= (double)latency["p99"]!, $"{hop}: {latency.ToJsonString()}");
        }
    }

    public static void AssertNoErrors(JsonObject result) =>
        Assert.True((int)result["errors"]! == 0, $"errors: {result.ToJsonString()}");
}

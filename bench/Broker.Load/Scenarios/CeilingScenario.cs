using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Broker.Load.Client;
using Broker.Load.Rig;

namespace Broker.Load.Scenarios;

/// <summary>
/// The same client against a bare Kestrel endpoint (its own process) that answers every GET with a 302:
/// what this machine does when the server does nothing, to read the other figures against.
/// </summary>
public static class CeilingScenario
{
    public static async Task<JsonObject> RunAsync(LoadOptions o, CancellationToken cancellationToken)
    {
        await using var rig = await LoadRig.CreateAsync(o with { Storage = Storage.Memory }, cancellationToken);
        await rig.StartUpstreamAsync("bare", cancellationToken);
        using var http = BrokerClient.Create();
        var url = new Uri(rig.UpstreamUrl + "/t/load/login?connection=fast");
        var cpu = rig.CpuMeter();
        Console.Error.WriteLine($"# ceiling: {o.Vus} virtual users, {o.WarmupSeconds} s warm-up, {o.DurationSeconds} s measured");
        var run = await Driver.DriveAsync(o.Vus, o.WarmupSeconds, o.DurationSeconds, async (_, recorder, ct) =>
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
            await response.Content.CopyToAsync(Stream.Null, ct);
            recorder.Add("request", Latency.MillisecondsSince(started));
            if (response.StatusCode != HttpStatusCode.Found)
                throw new HopException("request", ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }, cpu.Start, cancellationToken);
        var cpuPct = cpu.Stop();
        cpuPct["server"] = cpuPct["upstream"]?.DeepClone();
        cpuPct.Remove("upstream");
        return new JsonObject
        {
            ["seconds"] = Math.Round(run.Seconds, 1),
            ["requests"] = run.Done,
            ["requestsPerSec"] = Math.Round(run.Done / run.Seconds, 1),
            ["latencyMs"] = run.LatencyMs(),
            ["errors"] = run.ErrorCount,
            ["errorsByKind"] = run.ErrorsByKind(),
            ["cpuPct"] = cpuPct,
        };
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;
using Broker.Load.Client;
using Broker.Load.Rig;

namespace Broker.Load.Scenarios;

/// <summary>Warm sessions made by real logins, then GET .../token on random ones for a fixed time.</summary>
public static class TokenScenario
{
    public static async Task<JsonObject> RunAsync(LoadOptions o, CancellationToken cancellationToken)
    {
        await using var rig = await LoadRig.CreateAsync(o, cancellationToken);
        await rig.StartUpstreamAsync("oidc", cancellationToken);
        await rig.StartSilosAsync(o.Silos, cancellationToken);
        using var client = new BrokerClient([.. rig.Silos.Select(s => s.Url)], rig.PublicBaseUrl);
        var tenant = await client.CreateTenantAsync(rig.AdminToken, rig.UpstreamUrl, rig.ClientSecret, cancellationToken);

        Console.Error.WriteLine($"# token: making {o.Sessions} sessions by logging in");
        var creating = Stopwatch.StartNew();
        var sessions = new List<string>();
        var failures = 0;
        await Task.WhenAll(Enumerable.Range(0, Math.Min(o.Vus, o.Sessions)).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                lock (sessions)
                {
                    if (sessions.Count + failures >= o.Sessions + o.Sessions / 10 || sessions.Count >= o.Sessions)
                        return;
                }
                try
                {
                    var id = await client.LoginAsync(tenant, null, cancellationToken);
                    lock (sessions)
                        sessions.Add(id);
                }
                catch (HopException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }, cancellationToken)));
        if (sessions.Count < o.Sessions)
            throw new InvalidOperationException($"only {sessions.Count} of {o.Sessions} sessions could be made ({failures} logins failed)");
        var ids = sessions.Take(o.Sessions).ToArray();
        var creationSeconds = creating.Elapsed.TotalSeconds;

        var cpu = rig.CpuMeter();
        Console.Error.WriteLine($"# token: {o.Vus} virtual users on {ids.Length} sessions, {o.WarmupSeconds} s warm-up, {o.DurationSeconds} s measured");
        var run = await Driver.DriveAsync(o.Vus, o.WarmupSeconds, o.DurationSeconds,
            (_, recorder, ct) => client.GetTokenAsync(tenant, ids[Random.Shared.Next(ids.Length)], recorder, ct), cpu.Start, cancellationToken);
        return new JsonObject
        {
            ["sessions"] = ids.Length,
            ["sessionCreationSeconds"] = Math.Round(creationSeconds, 1),
            ["seconds"] = Math.Round(run.Seconds, 1),
            ["tokens"] = run.Done,
            ["tokensPerSec"] = Math.Round(run.Done / run.Seconds, 1),
            ["latencyMs"] = run.LatencyMs(),
            ["errors"] = run.ErrorCount,
            ["errorsByKind"] = run.ErrorsByKind(),
            ["cpuPct"] = cpu.Stop(),
            ["siloLogs"] = rig.SiloLogs(),
        };
    }
}

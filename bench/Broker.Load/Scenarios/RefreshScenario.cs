using System.Diagnostics;
using System.Text.Json.Nodes;
using Broker.Load.Client;
using Broker.Load.Measure;
using Broker.Load.Rig;
using Broker.Load.Seeding;

namespace Broker.Load.Scenarios;

/// <summary>
/// S seeded sessions on PostgreSQL whose access tokens all come due within a window: how many refreshes a
/// second the silos make, and how late after its due time each session's refresh reached the provider
/// (the fast upstream's own log). The silos' broker_reminder_lag_seconds is reported beside it.
/// </summary>
public static class RefreshScenario
{
    public static async Task<JsonObject> RunAsync(LoadOptions o, CancellationToken cancellationToken)
    {
        await using var rig = await LoadRig.CreateAsync(o, cancellationToken);
        await rig.StartUpstreamAsync("oidc", cancellationToken);
        await rig.StartSilosAsync(o.Silos, cancellationToken);
        using var client = new BrokerClient([.. rig.Silos.Select(s => s.Url)], rig.PublicBaseUrl);
        var tenant = await client.CreateTenantAsync(rig.AdminToken, rig.UpstreamUrl, rig.ClientSecret, cancellationToken);

        var dueIn = o.DueInSeconds ?? 60 + o.Sessions / 1500.0;
        var opens = DateTimeOffset.UtcNow.AddSeconds(dueIn);
        var closes = opens.AddSeconds(o.WindowSeconds);
        // Spread evenly over the window, in the order they are written.
        var seeding = await SeededSilos.SeedAsync(rig, tenant, o.Silos, o.Sessions,
            i => opens.AddSeconds(o.WindowSeconds * (i + 0.5) / o.Sessions), dueInToken: true, cancellationToken);
        var slack = (opens - DateTimeOffset.UtcNow).TotalSeconds;
        seeding["windowOpenedSecondsAfterReady"] = Math.Round(slack, 1);
        if (slack < 5)
            Console.Error.WriteLine($"# warning: the window opened {-slack:F0} s before the silos were ready; give --due-in more than {dueIn:F0}");

        var cpu = rig.CpuMeter();
        if (slack > 0)
            await Task.Delay(TimeSpan.FromSeconds(slack), cancellationToken);
        cpu.Start();
        Console.Error.WriteLine($"# refresh: {o.Sessions} sessions come due over {o.WindowSeconds} s");
        var deadline = closes.AddSeconds(o.MaxWaitSeconds);
        JsonObject stats;
        while (true)
        {
            stats = await UpstreamStatsAsync(client.Http, rig.UpstreamUrl, cancellationToken);
            var done = (int)stats["seededRefreshes"]!["sessions"]!;
            Console.Error.WriteLine($"# {done} of {o.Sessions} refreshed, {(DateTimeOffset.UtcNow - opens).TotalSeconds:F0} s after the window opened");
            if (done >= o.Sessions || DateTimeOffset.UtcNow > deadline)
                break;
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        }
        var cpuPct = cpu.Stop();
        var log = stats["seededRefreshes"]!.AsObject();
        var refreshed = (int)log["sessions"]!;
        var busySeconds = ((long)log["lastAtUnixMs"]! - (long)log["firstAtUnixMs"]!) / 1000.0;
        return new JsonObject
        {
            ["seeding"] = seeding,
            ["refreshed"] = refreshed,
            ["complete"] = refreshed >= o.Sessions,
            ["offeredPerSec"] = Math.Round(o.Sessions / o.WindowSeconds, 1),
            ["refreshesPerSec"] = busySeconds > 0 ? Math.Round(refreshed / busySeconds, 1) : null,
            ["busySeconds"] = Math.Round(busySeconds, 1),
            ["lagMs"] = log["lagMs"]!.DeepClone(),
            ["repeatedGrants"] = log["repeatedGrants"]!.DeepClone(),
            ["errors"] = stats["refused"]!.DeepClone(),
            ["silos"] = await SiloMetrics.ReadAsync(client.Http, rig.Silos.Select(s => s.Url), cancellationToken),
            ["cpuPct"] = cpuPct,
            ["siloLogs"] = rig.SiloLogs(),
        };
    }

    private static async Task<JsonObject> UpstreamStatsAsync(HttpClient http, string upstream, CancellationToken cancellationToken) =>
        JsonNode.Parse(await http.GetStringAsync(new Uri(upstream + "/_harness/stats"), cancellationToken))!.AsObject();
}

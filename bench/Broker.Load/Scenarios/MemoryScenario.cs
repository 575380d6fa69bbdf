using System.Text.Json.Nodes;
using Broker.Load.Client;
using Broker.Load.Measure;
using Broker.Load.Rig;
using Broker.Load.Seeding;

namespace Broker.Load.Scenarios;

/// <summary>
/// A silo's memory with no sessions and with S idle sessions stored (due hours ahead, so none is active):
/// each time a fresh silo process that has run for --wait seconds (its reminder service reads its range at
/// start and every 5 minutes). Plus the bytes PostgreSQL holds per session.
/// </summary>
public static class MemoryScenario
{
    // Workstation GC: one heap, so the figures are the heap's and not server GC's per-core budgets.
    private static readonly Dictionary<string, string?> SiloEnvironment = new() { ["DOTNET_gcServer"] = "0" };

    public static async Task<JsonObject> RunAsync(LoadOptions o, CancellationToken cancellationToken)
    {
        await using var rig = await LoadRig.CreateAsync(o, cancellationToken);
        await rig.StartUpstreamAsync("oidc", cancellationToken);
        await rig.StartSilosAsync(1, cancellationToken, SiloEnvironment);
        using var client = new BrokerClient([.. rig.Silos.Select(s => s.Url)], rig.PublicBaseUrl);
        var tenant = await client.CreateTenantAsync(rig.AdminToken, rig.UpstreamUrl, rig.ClientSecret, cancellationToken);

        var empty = await MeasureAfterWaitAsync(rig, o.WaitSeconds, 0, cancellationToken);
        var now = DateTimeOffset.UtcNow;
        var seeding = await SeededSilos.SeedAsync(rig, tenant, 1, o.Sessions,
            i => now.AddHours(12).AddSeconds(3600.0 * i / o.Sessions), dueInToken: false, cancellationToken, SiloEnvironment);
        var storage = await StorageAsync(rig.Postgres!, o.Sessions, cancellationToken);
        var full = await MeasureAfterWaitAsync(rig, o.WaitSeconds, o.Sessions, cancellationToken);
        return new JsonObject
        {
            ["waitSeconds"] = o.WaitSeconds,
            ["points"] = new JsonArray(empty, full),
            ["rssGrowthBytesPerSession"] = (double?)full["rssMiB"] - (double?)empty["rssMiB"] is { } grew ? Math.Round(grew * 1024 * 1024 / o.Sessions, 1) : null,
            ["storage"] = storage,
            ["seeding"] = seeding,
            ["siloLogs"] = rig.SiloLogs(),
        };
    }

    private static async Task<JsonObject> MeasureAfterWaitAsync(LoadRig rig, double waitSeconds, int sessions, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"# memory: {sessions} sessions stored; measuring the silo after {waitSeconds} s");
        await Task.Delay(TimeSpan.FromSeconds(waitSeconds), cancellationToken);
        var point = await ProcessMemory.ReadAsync(rig.Silos[0].Process.Pid);
        point["sessions"] = sessions;
        Console.Error.WriteLine($"# memory: {point.ToJsonString()}");
        return point;
    }

    private static async Task<JsonObject> StorageAsync(Postgres postgres, int sessions, CancellationToken cancellationToken)
    {
        await using var db = postgres.CreateDataSource();
        var tables = new JsonObject();
        long total = 0;
        foreach (var table in new[] { "orleansstorage", "orleansreminderstable", "broker_sessions" })
        {
            await using var command = db.CreateCommand($"SELECT pg_total_relation_size('{table}')");
            var bytes = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            tables[table] = bytes;
            total += bytes;
        }
        return new JsonObject { ["bytes"] = total, ["bytesPerSession"] = Math.Round((double)total / sessions), ["tables"] = tables };
    }
}

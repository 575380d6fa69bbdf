using Broker.Testing;

namespace Broker.Load.Tests;

/// <summary>The scenarios on PostgreSQL (the server of BROKER_TEST_PG; each run makes and drops its own database).</summary>
public sealed class PostgresLoadSmokeTests
{
    private static string[] Server => ["--pg", TestDatabase.ServerConnectionString];

    [Fact]
    public async Task Login_on_two_silos_completes_flows()
    {
        var result = await LoadRun.RunAsync(["login", "--vus", "4", "--duration", "2", "--warmup", "1", "--storage", "postgres", "--silos", "2", .. Server]);
        Assert.True((double)result["loginsPerSec"]! > 0);
        LoadRun.AssertLatency(result, "login", "authorize", "callback", "exchange", "total");
        LoadRun.AssertNoErrors(result);
        Assert.True((double)result["cpuPct"]!["silo1"]! > 0, "the second silo served nothing");
    }

    [Fact]
    public async Task Refresh_refreshes_every_seeded_session_once()
    {
        var result = await LoadRun.RunAsync(["refresh", "--sessions", "200", "--window", "3", "--due-in", "20", .. Server]);
        Assert.Equal(3, (int)result["seeding"]!["verified"]!);
        Assert.Equal(200, (int)result["refreshed"]!);
        Assert.True((bool)result["complete"]!);
        Assert.True((double)result["refreshesPerSec"]! > 0);
        Assert.NotNull(result["lagMs"]!["p99"]);
        Assert.Equal(0, (int)result["repeatedGrants"]!);
        Assert.Equal(200, (double)result["silos"]!["refreshesTotal"]!["ok"]!);
        LoadRun.AssertNoErrors(result);
    }

    [Fact]
    public async Task Memory_reads_the_silo_with_and_without_stored_sessions()
    {
        var result = await LoadRun.RunAsync(["memory", "--sessions", "300", "--wait", "1", .. Server]);
        var points = result["points"]!.AsArray();
        Assert.Equal([0, 300], points.Select(p => (int)p!["sessions"]!));
        Assert.All(points, p => Assert.True((double)p!["rssMiB"]! > 0));
        Assert.True((double)result["storage"]!["bytesPerSession"]! > 0);
        Assert.Equal(3, (int)result["seeding"]!["verified"]!);
    }
}

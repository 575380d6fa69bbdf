namespace Broker.Load.Tests;

/// <summary>The scenarios that run on Memory storage, at a few virtual users and seconds.</summary>
public sealed class LoadSmokeTests
{
    private static readonly string[] Short = ["--vus", "4", "--duration", "2", "--warmup", "1"];

    [Fact]
    public async Task Login_completes_flows_and_times_every_hop()
    {
        // Long enough that a login completes in the measured part however busy the machine is: with two seconds,
        // a full test run beside a build once completed none (a login is four requests and an RS256 signature).
        var result = await LoadRun.RunAsync(["login", "--vus", "4", "--duration", "10", "--warmup", "2"]);
        Assert.True((double)result["loginsPerSec"]! > 0);
        LoadRun.AssertLatency(result, "login", "authorize", "callback", "exchange", "total");
        LoadRun.AssertNoErrors(result);
        Assert.True((double)result["cpuPct"]!["silo0"]! > 0);
    }

    [Fact]
    public async Task Token_reads_tokens_of_warm_sessions()
    {
        var result = await LoadRun.RunAsync(["token", .. Short, "--sessions", "20"]);
        Assert.Equal(20, (int)result["sessions"]!);
        Assert.True((double)result["tokensPerSec"]! > 0);
        LoadRun.AssertLatency(result, "token");
        LoadRun.AssertNoErrors(result);
    }

    [Fact]
    public async Task Ceiling_drives_a_bare_endpoint()
    {
        var result = await LoadRun.RunAsync(["ceiling", .. Short]);
        Assert.True((double)result["requestsPerSec"]! > 0);
        LoadRun.AssertLatency(result, "request");
        LoadRun.AssertNoErrors(result);
    }
}

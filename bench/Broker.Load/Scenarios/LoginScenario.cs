using System.Text.Json.Nodes;
using Broker.Load.Client;
using Broker.Load.Rig;

namespace Broker.Load.Scenarios;

/// <summary>Complete logins by N virtual users for a fixed time: logins per second and each hop's latency.</summary>
public static class LoginScenario
{
    public static async Task<JsonObject> RunAsync(LoadOptions o, CancellationToken cancellationToken)
    {
        await using var rig = await LoadRig.CreateAsync(o, cancellationToken);
        await rig.StartUpstreamAsync("oidc", cancellationToken);
        await rig.StartSilosAsync(o.Silos, cancellationToken);
        using var client = new BrokerClient([.. rig.Silos.Select(s => s.Url)], rig.PublicBaseUrl);
        var tenant = await client.CreateTenantAsync(rig.AdminToken, rig.UpstreamUrl, rig.ClientSecret, cancellationToken);
        var cpu = rig.CpuMeter();
        Console.Error.WriteLine($"# login: {o.Vus} virtual users, {o.WarmupSeconds} s warm-up, {o.DurationSeconds} s measured");
        var run = await Driver.DriveAsync(o.Vus, o.WarmupSeconds, o.DurationSeconds,
            (_, recorder, ct) => client.LoginAsync(tenant, recorder, ct), cpu.Start, cancellationToken);
        return new JsonObject
        {
            ["seconds"] = Math.Round(run.Seconds, 1),
            ["logins"] = run.Done,
            ["loginsPerSec"] = Math.Round(run.Done / run.Seconds, 1),
            ["latencyMs"] = run.LatencyMs(),
            ["errors"] = run.ErrorCount,
            ["errorsByKind"] = run.ErrorsByKind(),
            ["cpuPct"] = cpu.Stop(),
            ["siloLogs"] = rig.SiloLogs(),
        };
    }
}

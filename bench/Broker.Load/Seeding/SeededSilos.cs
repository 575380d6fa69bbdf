using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Broker.Load.Client;
using Broker.Load.Rig;
using Broker.Load.Upstream;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Load.Seeding;

/// <summary>
/// The seeding procedure, on a rig whose silos and upstream run and whose tenant exists: one real login
/// (the template), the silos stopped, the sessions written, the silos started again (so that their
/// reminder service reads the new reminders at start), and a few seeded sessions read back through the
/// REST API — the view and the token — before anything is measured.
/// </summary>
public static class SeededSilos
{
    private const int Probes = 3;

    public static async Task<JsonObject> SeedAsync(LoadRig rig, LoadTenant tenant, int silos, int count, Func<int, DateTimeOffset> dueAt, bool dueInToken,
        CancellationToken cancellationToken, IDictionary<string, string?>? siloEnvironment = null)
    {
        using var client = new BrokerClient([.. rig.Silos.Select(s => s.Url)], rig.PublicBaseUrl);
        var templateSession = await client.LoginAsync(tenant, null, cancellationToken);
        await using var db = rig.Postgres!.CreateDataSource();
        var services = new ServiceCollection();
        // As the silo sets it up with Broker__DataProtection__KeysDirectory (SiloHost.AddDataProtection), and
        // the purpose SecretProtector uses.
        services.AddDataProtection().SetApplicationName("Broker").PersistKeysToFileSystem(new DirectoryInfo(rig.KeysDirectory));
        await using var provider = services.BuildServiceProvider();
        var protector = provider.GetRequiredService<IDataProtectionProvider>().CreateProtector("Broker.Secrets.v1");
        var sealer = new SealedTokens(rig.UpstreamKey);
        var template = await SeedTemplate.ReadAsync(db, templateSession, protector, sealer);

        Console.Error.WriteLine($"# stopping the silos to seed {count} sessions");
        await rig.StopSilosAsync();
        var stopwatch = Stopwatch.StartNew();
        var probes = await new SessionSeeder(db, template, protector, sealer, tenant.ClientId).SeedAsync(count, dueAt, dueInToken, Probes, cancellationToken);
        var seedSeconds = stopwatch.Elapsed.TotalSeconds;

        Console.Error.WriteLine("# starting the silos again");
        stopwatch.Restart();
        await rig.StartSilosAsync(silos, cancellationToken, siloEnvironment);
        var startSeconds = stopwatch.Elapsed.TotalSeconds;
        using var check = new BrokerClient([.. rig.Silos.Select(s => s.Url)], rig.PublicBaseUrl);
        foreach (var probe in probes)
            await VerifyAsync(check, tenant, probe, cancellationToken);
        Console.Error.WriteLine($"# {probes.Count} seeded sessions read back through the REST API: view and token as seeded");
        return new JsonObject
        {
            ["sessions"] = count,
            ["seedSeconds"] = Math.Round(seedSeconds, 1),
            ["seededPerSecond"] = Math.Round(count / seedSeconds),
            ["siloStartSeconds"] = Math.Round(startSeconds, 1),
            ["verified"] = probes.Count,
        };
    }

    private static async Task VerifyAsync(BrokerClient client, LoadTenant tenant, Probe probe, CancellationToken cancellationToken)
    {
        var view = await client.GetSessionAsync(tenant, probe.SessionId, cancellationToken);
        var expires = DateTimeOffset.Parse((string)view["accessTokenExpiresAt"]!, CultureInfo.InvariantCulture);
        if ((string?)view["status"] != "active" || (string?)view["user"]?["subject"] != probe.Subject
            || Math.Abs((expires - probe.AccessTokenExpiresAt).TotalSeconds) > 1)
            throw new InvalidOperationException($"seeded session {probe.SessionId} reads back wrong: {view.ToJsonString()}");
        var token = JsonNode.Parse(await client.GetTokenAsync(tenant, probe.SessionId, null, cancellationToken))!;
        if ((string?)token["accessToken"] != probe.AccessToken)
            throw new InvalidOperationException($"seeded session {probe.SessionId} hands out another access token than the one seeded");
    }
}

using Broker.Grains.Sessions;
using Broker.Testing;
using Broker.Testing.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Broker.Grains.Tests.Grains;

/// <summary>docs/design.md §2, semantics 6: an idle session's activation is collected, so a silo's memory follows
/// the sessions in use, and the session lives on in storage: the next call activates it again.</summary>
public sealed class ActivationCollectionTests
{
    [Fact]
    public async Task An_idle_session_is_collected_and_comes_back_with_its_state()
    {
        // Collection runs on real time (Orleans' own clock in the kit): a short age keeps the test short.
        await using var kit = await BrokerGrainsKit.StartAsync(services: s => s.Configure<GrainCollectionOptions>(o =>
        {
            o.CollectionAge = TimeSpan.FromSeconds(2);
            o.CollectionQuantum = TimeSpan.FromSeconds(1);
        }));
        kit.Provider.AccessTokenLifetime = TimeSpan.FromHours(1);
        var session = await kit.LoginAsync();
        var before = await kit.Session(session).GetAsync(kit.Tenant);
        var management = kit.Grains.GetGrain<IManagementGrain>(0);
        Assert.True(await SessionActivationsAsync(management) > 0);

        await Eventually.HoldsAsync(async () => await SessionActivationsAsync(management) == 0, "the idle session's activation collected");

        var after = await kit.Session(session).GetAsync(kit.Tenant);
        // The same view, read back from storage (the raw profile compared as JSON: a JsonObject has no value equality).
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(before), System.Text.Json.JsonSerializer.Serialize(after));
        Assert.Equal(1, await SessionActivationsAsync(management));
    }

    private static async Task<int> SessionActivationsAsync(IManagementGrain management) =>
        (await management.GetSimpleGrainStatistics()).Where(s => s.GrainType.Contains(nameof(SessionGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);
}

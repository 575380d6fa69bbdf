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

    [Fact]
    public async Task A_session_woken_only_by_its_reminder_is_let_go_after_the_tick_and_one_in_use_is_kept()
    {
        // Orleans' default collection age (far longer than this test): only the session itself lets go.
        await using var kit = await BrokerGrainsKit.StartAsync();
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var idle = await kit.LoginAsync();
        var inUse = await kit.LoginAsync();
        var management = kit.Grains.GetGrain<IManagementGrain>(0);
        await kit.Cluster.DeactivateAsync(kit.Session(idle));
        Assert.Equal(1, await SessionActivationsAsync(management));

        // Both come due: the idle one only on its reminder, on a new activation; the other in its activation.
        kit.Clock.Advance(TimeSpan.FromSeconds(540));
        await kit.AdvanceUntilAsync(TimeSpan.FromSeconds(1), async () => kit.RefreshRequests == 2 && await SessionActivationsAsync(management) == 1,
            "both refreshed, and the activation the reminder started let go");

        Assert.Equal(1, await SessionActivationsAsync(management)); // the session in use, still active
        Assert.Equal("active", (await kit.Session(idle).GetAsync(kit.Tenant))!.Status);
        Assert.Equal(2, await SessionActivationsAsync(management)); // a call brings it back, with its refreshed state
    }

    private static async Task<int> SessionActivationsAsync(IManagementGrain management) =>
        (await management.GetSimpleGrainStatistics()).Where(s => s.GrainType.Contains(nameof(SessionGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);
}

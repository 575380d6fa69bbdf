using Broker.Grains.Sessions;
using Broker.Testing;
using Broker.Testing.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Storage;

namespace Broker.Grains.Tests.Grains;

/// <summary>Many sessions due at once: a silo refreshes a bounded number at a time, a session waits for its turn
/// no longer than one grain call may take, and a refresh whose tokens the database fails to take tries again
/// before the refresh token it spent is the session's loss.</summary>
public sealed class RefreshUnderLoadTests
{
    [Fact]
    public async Task A_silo_runs_no_more_refreshes_at_once_than_it_has_slots_and_the_rest_wait_their_turn()
    {
        await using var kit = await BrokerGrainsKit.StartAsync(services: s =>
            s.AddSingleton(new BrokerGrainOptions { PublicBaseUrl = new Uri("https://broker.example/"), MaxConcurrentRefreshes = 2 }));
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var sessions = new List<string>();
        for (var i = 0; i < 5; i++)
            sessions.Add(await kit.LoginAsync());
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        kit.Provider.HoldRefreshes = release.Task;
        var slots = kit.SiloService<RefreshSlots>();

        kit.Clock.Advance(TimeSpan.FromSeconds(540)); // all five due: their timers fire together
        await Eventually.HoldsAsync(() => Task.FromResult(kit.Provider.RefreshesInFlight == 2 && slots.Waiting == 3),
            "two refreshes at the provider and three waiting for a slot");

        release.SetResult();
        await Eventually.HoldsAsync(() => Task.FromResult(kit.RefreshRequests == 5), "every session refreshed");
        Assert.Equal(2, kit.Provider.MostRefreshesInFlight);
        foreach (var session in sessions)
        {
            var view = await kit.Session(session).GetAsync(kit.Tenant);
            Assert.Equal(("active", kit.Clock.GetUtcNow()), (view!.Status, view.RefreshedAt));
        }
        Assert.Equal(0, kit.Provider.RefreshTokenReuseCount);
    }

    [Fact]
    public async Task A_refresh_that_gets_no_slot_in_time_gives_its_turn_up_so_the_session_still_answers()
    {
        var options = new BrokerGrainOptions
        {
            PublicBaseUrl = new Uri("https://broker.example/"),
            MaxConcurrentRefreshes = 1,
            RefreshSlotWait = TimeSpan.FromSeconds(3),
        };
        await using var kit = await BrokerGrainsKit.StartAsync(services: s => s.AddSingleton(options));
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        string[] sessions = [await kit.LoginAsync(), await kit.LoginAsync()];
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        kit.Provider.HoldRefreshes = release.Task;
        var slots = kit.SiloService<RefreshSlots>();
        kit.Clock.Advance(TimeSpan.FromSeconds(540)); // both due; one gets the slot and is held at the provider
        await Eventually.HoldsAsync(() => Task.FromResult(kit.Provider.RefreshesInFlight == 1 && slots.Waiting == 1),
            "one refresh at the provider, one waiting for the slot");

        // Waiting for a slot holds the session's turn: a read queues behind it. Each wait ends after
        // RefreshSlotWait (3 s), the read's own included, before the held call's attempt timeout (10 s) would
        // free the slot anyway.
        var reads = sessions.Select(s => kit.Session(s).GetTokenAsync(kit.Tenant)).ToList();
        var start = kit.Clock.GetUtcNow();
        await Eventually.HoldsAsync(() =>
        {
            if (reads.Any(r => r.IsCompleted))
                return Task.FromResult(true);
            if (slots.Waiting == 1 && kit.Clock.GetUtcNow() - start < TimeSpan.FromSeconds(9))
                kit.Clock.Advance(TimeSpan.FromSeconds(1));
            return Task.FromResult(false);
        }, "a token read answered while the other session's refresh is held");

        var answered = Assert.IsType<TokenOutcome.Token>(await reads.Single(r => r.IsCompleted));
        Assert.True(kit.Provider.IsActive(answered.AccessToken)); // the current token: not expired yet
        Assert.Equal(1, kit.Provider.RefreshesInFlight);

        release.SetResult();
        await Eventually.HoldsAsync(() => Task.FromResult(kit.RefreshRequests == 2), "both sessions refreshed");
        await Task.WhenAll(reads);
        Assert.Equal((1, 0), (kit.Provider.MostRefreshesInFlight, kit.Provider.RefreshTokenReuseCount));
    }

    [Fact]
    public async Task New_tokens_the_database_failed_to_take_are_written_again_while_the_claim_holds()
    {
        var storage = new FailingRefreshWrites();
        await using var kit = await BrokerGrainsKit.StartAsync(storage: silo =>
        {
            silo.AddMemoryGrainStorage("inner");
            silo.UseInMemoryReminderService();
            silo.Services.AddKeyedSingleton<IGrainStorage>(BrokerStorage.Name, (services, _) =>
                storage.Over(services.GetRequiredKeyedService<IGrainStorage>("inner")));
        });
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var session = await kit.LoginAsync();
        storage.FailNext(2);

        kit.Clock.Advance(TimeSpan.FromSeconds(540));
        await kit.AdvanceUntilAsync(TimeSpan.FromMilliseconds(250),
            async () => (await kit.StoredJsonAsync<SessionState>("session", "session", "s:" + session))!.Contains("\"refreshedAt\":\""),
            "the refreshed tokens in storage");

        Assert.Equal((1, 2), (kit.RefreshRequests, storage.Failed));
        var token = Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(kit.Tenant));
        Assert.True(kit.Provider.IsActive(token.AccessToken));
    }

    /// <summary>Memory storage whose next writes of a refreshed session fail, as they do when the connection pool is exhausted.</summary>
    private sealed class FailingRefreshWrites : IGrainStorage
    {
        private IGrainStorage _inner = null!;
        private int _toFail;

        public int Failed { get; private set; }

        public FailingRefreshWrites Over(IGrainStorage inner)
        {
            _inner = inner;
            return this;
        }

        public void FailNext(int writes) => _toFail = writes;

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => _inner.ReadStateAsync(stateName, grainId, grainState);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (grainState.State is SessionState { RefreshedAt: not null } && _toFail > 0)
            {
                _toFail--;
                Failed++;
                throw new TimeoutException("The connection pool has been exhausted.");
            }
            return _inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => _inner.ClearStateAsync(stateName, grainId, grainState);
    }
}

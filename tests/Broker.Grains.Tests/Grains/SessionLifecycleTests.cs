using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Testing.Runtime;
using Broker.Testing.Upstreams;

namespace Broker.Grains.Tests.Grains;

/// <summary>The session's token lifecycle (docs/design.md §2, §6), driven by a fake clock that moves its grain timers and reminders.</summary>
public sealed class SessionLifecycleTests
{
    [Fact]
    public async Task The_refresh_runs_lead_seconds_before_expiry_and_rearms()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var session = await kit.LoginAsync();
        var first = Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(kit.Tenant));

        await kit.AdvanceAsync(TimeSpan.FromSeconds(539));
        Assert.Equal(0, kit.RefreshRequests);
        await kit.AdvanceAsync(TimeSpan.FromSeconds(1)); // 600 - 60
        Assert.Equal(1, kit.RefreshRequests);

        var second = Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(kit.Tenant));
        Assert.NotEqual(first.AccessToken, second.AccessToken);
        var view = await kit.Session(session).GetAsync(kit.Tenant);
        Assert.Equal(kit.Clock.GetUtcNow(), view!.RefreshedAt);

        await kit.AdvanceAsync(TimeSpan.FromSeconds(540));
        Assert.Equal(2, kit.RefreshRequests);
        Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);
    }

    [Fact]
    public async Task A_token_living_less_than_twice_the_lead_is_refreshed_at_half_its_life()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        kit.Provider.AccessTokenLifetime = TimeSpan.FromSeconds(90);
        await kit.LoginAsync();

        await kit.AdvanceAsync(TimeSpan.FromSeconds(44));
        Assert.Equal(0, kit.RefreshRequests);
        await kit.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(1, kit.RefreshRequests);
    }

    [Fact]
    public async Task Invalid_grant_ends_the_session_as_refresh_failed()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(5);
        var session = await kit.LoginAsync();
        kit.Provider.FailNext(FakeEndpoint.Token, FakeFailure.OAuthError("invalid_grant"));

        await kit.AdvanceAsync(TimeSpan.FromMinutes(4));

        var view = await kit.Session(session).GetAsync(kit.Tenant);
        Assert.Equal(("ended", EndReasons.RefreshFailed), (view!.Status, view.EndReason));
        Assert.Equal(new TokenOutcome.Ended(EndReasons.RefreshFailed), await kit.Session(session).GetTokenAsync(kit.Tenant));
    }

    [Fact]
    public async Task A_transient_failure_is_retried_with_backoff_and_an_expired_token_is_never_handed_out()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        kit.Provider.AccessTokenLifetime = TimeSpan.FromSeconds(100);
        var session = await kit.LoginAsync();
        for (var i = 0; i < 6; i++)
            kit.Provider.FailNext(FakeEndpoint.Token, FakeFailure.ServiceUnavailable()); // attempts and their HTTP retries

        await kit.AdvanceAsync(TimeSpan.FromSeconds(50)); // due at half life: fails
        Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);
        Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(kit.Tenant)); // still valid for 50 s

        await kit.AdvanceAsync(TimeSpan.FromSeconds(51)); // token expired; the fake is still failing or just recovered
        var outcome = await kit.Session(session).GetTokenAsync(kit.Tenant);
        if (outcome is TokenOutcome.Token token)
            Assert.True(token.ExpiresAt > kit.Clock.GetUtcNow(), "a token handed out is never expired");
        else
            Assert.IsType<TokenOutcome.Unavailable>(outcome);

        for (var i = 0; i < 5; i++)
            await kit.AdvanceAsync(TimeSpan.FromSeconds(60));
        var recovered = Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(kit.Tenant));
        Assert.True(recovered.ExpiresAt > kit.Clock.GetUtcNow());
        Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);
    }

    [Fact]
    public async Task A_session_without_a_refresh_token_ends_as_refresh_failed_when_its_access_token_expires()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        kit.Provider.IssueRefreshTokens = false;
        var session = await kit.LoginAsync();
        Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(kit.Tenant));

        // Nothing calls it: its own timer ends it when the token expires, not a day later at its lifetime.
        await kit.AdvanceUntilAsync(TimeSpan.FromSeconds(30),
            async () => (await kit.StoredJsonAsync<SessionState>("session", "session", "s:" + session))!.Contains($"\"endReason\":\"{EndReasons.RefreshFailed}\""),
            "the session ended when its token expired");

        var view = await kit.Session(session).GetAsync(kit.Tenant);
        Assert.Equal(("ended", EndReasons.RefreshFailed), (view!.Status, view.EndReason));
        Assert.Equal(EndReasons.RefreshFailed, Assert.IsType<TokenOutcome.Ended>(await kit.Session(session).GetTokenAsync(kit.Tenant)).Reason);
        Assert.Equal(0, kit.RefreshRequests);
    }

    [Fact]
    public async Task A_session_whose_refreshes_fail_for_an_hour_after_its_token_expired_ends_as_refresh_failed()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var session = await kit.LoginAsync();
        for (var i = 0; i < 500; i++)
            kit.Provider.FailNext(FakeEndpoint.Token, FakeFailure.ServiceUnavailable());

        kit.Clock.Advance(TimeSpan.FromMinutes(8.5)); // nothing due yet: the refresh is due a minute before expiry
        // The first refresh, when it comes due, fails (after the connector's own retries,
        // which wait on the same clock: small steps, so that the failure is recorded near the due time).
        await kit.AdvanceUntilAsync(TimeSpan.FromSeconds(1),
            async () => (await kit.StoredJsonAsync<SessionState>("session", "session", "s:" + session))!.Contains("\"refreshFailingSince\":\"", StringComparison.Ordinal),
            "the first refresh failed");

        // Half an hour on, past the token's expiry: the refreshes keep failing, the session waits (GET token: 503).
        await kit.AdvanceAsync(TimeSpan.FromMinutes(30));
        Assert.IsType<TokenOutcome.Unavailable>(await kit.Session(session).GetTokenAsync(kit.Tenant));
        Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);

        // An hour after they began to fail (and past the token's expiry), it can no longer produce a token.
        await kit.AdvanceAsync(TimeSpan.FromMinutes(31));
        var view = await kit.Session(session).GetAsync(kit.Tenant);
        Assert.Equal(("ended", EndReasons.RefreshFailed), (view!.Status, view.EndReason));
    }

    [Fact]
    public async Task Two_silos_asking_for_a_due_token_at_once_refresh_it_once()
    {
        await using var kit = await BrokerGrainsKit.StartAsync(silos: 2, wakeupsFollowClock: false);
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var session = await kit.LoginAsync();
        kit.Clock.Advance(TimeSpan.FromSeconds(560)); // due; no timer or reminder has run

        var calls = Enumerable.Range(0, 10).SelectMany(_ => new[]
        {
            kit.GrainsOn(0).Session(session).GetTokenAsync(kit.Tenant),
            kit.GrainsOn(1).Session(session).GetTokenAsync(kit.Tenant),
        });
        var outcomes = await Task.WhenAll(calls);

        Assert.Equal(1, kit.RefreshRequests); // the fake rejects a reused refresh token: one refresh, no reuse
        // One activation takes the calls one turn at a time: the first refreshes, every one gets the new token.
        var tokens = outcomes.Select(o => Assert.IsType<TokenOutcome.Token>(o).AccessToken).Distinct().ToList();
        Assert.Single(tokens);
        Assert.True(kit.Provider.IsActive(tokens[0]));
        Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);
    }

    [Fact]
    public async Task A_refresh_interrupted_by_a_dead_silo_ends_as_refresh_lost_when_the_provider_spent_the_token()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var session = await kit.LoginAsync();
        // A silo took the refresh lease, the provider answered (spending the refresh token), and the
        // silo died before writing: its activation is gone and the row shows a lease whose owner never
        // came back.
        await kit.Cluster.DeactivateAsync(kit.Session(session));
        await kit.EditStoredJsonAsync<SessionState>("session", "session", "s:" + session, json =>
        {
            json["refreshLeaseOwner"] = "dead-silo";
            json["refreshLeaseUntil"] = kit.Clock.GetUtcNow().AddSeconds(30).ToString("O");
        });
        kit.Provider.FailNext(FakeEndpoint.Token, FakeFailure.OAuthError("invalid_grant"));

        // Nothing calls the session: its reminder wakes it on a new activation, past the lease.
        kit.Clock.Advance(TimeSpan.FromSeconds(540));
        await kit.AdvanceUntilAsync(TimeSpan.FromSeconds(1),
            async () => (await kit.StoredJsonAsync<SessionState>("session", "session", "s:" + session))!.Contains($"\"endReason\":\"{EndReasons.RefreshLost}\""),
            "the session's reminder ends it as refresh_lost");

        var view = await kit.Session(session).GetAsync(kit.Tenant);
        Assert.Equal(("ended", EndReasons.RefreshLost), (view!.Status, view.EndReason));
        Assert.Equal(1, kit.RefreshRequests);
    }

    [Fact]
    public async Task A_session_ends_at_its_absolute_lifetime_and_is_gone_an_hour_later()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        await kit.Grains.Tenant(kit.TenantId).UpdateAsync(new(null, null, null, LifetimeSeconds: 600));
        kit.Provider.AccessTokenLifetime = TimeSpan.FromHours(2);
        var session = await kit.LoginAsync();
        var view = await kit.Session(session).GetAsync(kit.Tenant);
        Assert.Equal(view!.CreatedAt.AddSeconds(600), view.ExpiresAt);

        await kit.AdvanceAsync(TimeSpan.FromSeconds(600));
        view = await kit.Session(session).GetAsync(kit.Tenant);
        Assert.Equal(("ended", EndReasons.Expired), (view!.Status, view.EndReason));
        Assert.NotEmpty(kit.Provider.RequestsTo("/revoke")); // tokens revoked upstream at the end

        await kit.AdvanceAsync(TimeSpan.FromMinutes(59));
        Assert.NotNull(await kit.Session(session).GetAsync(kit.Tenant));
        await kit.AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Null(await kit.Session(session).GetAsync(kit.Tenant));
        Assert.Null(await kit.StoredJsonAsync<SessionState>("session", "session", "s:" + session));
    }

    [Fact]
    public async Task A_session_whose_next_work_is_months_away_starts_and_ends_at_its_lifetime()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        // The longest lifetime a tenant may set, and a token that outlives it: nothing is due before the end,
        // further away than a grain timer can wait at once (49.7 days).
        await kit.Grains.Tenant(kit.TenantId).UpdateAsync(new(null, null, null, LifetimeSeconds: 365 * 86_400));
        kit.Provider.AccessTokenLifetime = TimeSpan.FromDays(400);
        var session = await kit.LoginAsync();
        Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);

        await kit.AdvanceAsync(TimeSpan.FromDays(365) - TimeSpan.FromSeconds(1));
        Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);
        await kit.AdvanceAsync(TimeSpan.FromSeconds(1));
        var view = await kit.Session(session).GetAsync(kit.Tenant);
        Assert.Equal(("ended", EndReasons.Expired), (view!.Status, view.EndReason));
        Assert.Equal(0, kit.RefreshRequests);
    }

    [Fact]
    public async Task Ending_a_session_revokes_upstream_and_a_failed_revocation_is_retried_in_the_background()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var session = await kit.LoginAsync();
        for (var i = 0; i < 3; i++)
            kit.Provider.FailNext(FakeEndpoint.Revocation, FakeFailure.ServiceUnavailable());

        Assert.True(await kit.Session(session).EndAsync(kit.Tenant, EndReasons.Logout));
        var attempts = kit.Provider.RequestsTo("/revoke").Count;
        Assert.True(attempts > 0, "revocation was tried before answering");
        Assert.Equal(EndReasons.Logout, (await kit.Session(session).GetAsync(kit.Tenant))!.EndReason);

        await kit.AdvanceAsync(TimeSpan.FromSeconds(30));
        Assert.True(kit.Provider.RequestsTo("/revoke").Count > attempts, "retried in the background by the session's own wake-up");
        var stored = await kit.StoredJsonAsync<SessionState>("session", "session", "s:" + session);
        Assert.Contains("\"revocationPending\":false", stored!);
    }

    [Fact]
    public async Task A_session_whose_connection_was_deleted_ends_as_revoked_at_its_next_refresh()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var session = await kit.LoginAsync();
        await kit.Grains.Tenant(kit.TenantId).DeleteConnectionAsync(BrokerGrainsKit.Connection);

        await kit.AdvanceAsync(TimeSpan.FromSeconds(540));

        var view = await kit.Session(session).GetAsync(kit.Tenant);
        Assert.Equal(("ended", EndReasons.Revoked), (view!.Status, view.EndReason));
        Assert.Equal(0, kit.RefreshRequests);
    }

    [Fact]
    public async Task Another_tenant_cannot_see_or_end_a_session()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var session = await kit.LoginAsync();

        Assert.Null(await kit.Session(session).GetAsync(new TenantRef("someone-else", "")));
        Assert.IsType<TokenOutcome.NotFound>(await kit.Session(session).GetTokenAsync(new TenantRef("someone-else", "")));
        Assert.False(await kit.Session(session).EndAsync(new TenantRef("someone-else", ""), EndReasons.Revoked));
        Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);
    }
}

using Broker.Testing.Processes;
using System.Diagnostics;
using Broker.Testing.Upstreams;
using Xunit.Abstractions;

namespace Broker.Cluster.Tests;

/// <summary>
/// A refresh cut off by a silo's death must be redone by another silo before the access token expires
/// (docs/design.md §6). The silo claims the refresh in the session's state before it calls the provider; the
/// claim lasts half the token's remaining life (5 s at least, 30 s at most) and the call is cancelled at
/// its end, so a dead silo's claim runs out while the token still has time. (The first version held
/// every claim 30 s whatever the token's life: with 20 s tokens it outlived them.) The test kills the
/// silo that holds the claim, read from the session's state, whichever silo Orleans placed it on.
/// </summary>
public sealed class PostgresRefreshLeaseTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_refresh_cut_off_by_a_killed_silo_is_redone_before_the_access_token_expires()
    {
        await using var cluster = await Cluster.StartAsync(2, p => p.AccessTokenLifetime = TimeSpan.FromSeconds(20));
        await cluster.SetRefreshLeadAsync(5); // due 15 s after issue, 5 s before expiry
        var (a, b) = (cluster.Silos[0], cluster.Silos[1]);
        var session = await cluster.LoginAsync(b, b, b);
        var first = Assert.Single(cluster.Provider.TokenLog);

        // A refresh reaches the provider, which does not answer; then the silo that claimed it dies.
        cluster.Provider.FailNext(FakeEndpoint.Token, FakeFailure.Hang);
        using var refresh = cluster.Api(HttpMethod.Post, new Uri(a.BaseAddress, $"/api/tenants/{Cluster.Tenant}/sessions/{session}/refresh"));
        var cutOff = cluster.Http.SendAsync(refresh);
        var wait = Stopwatch.StartNew();
        SiloProcess? claimer = null;
        while (claimer is null)
        {
            Assert.True(wait.Elapsed < TimeSpan.FromSeconds(10), "no silo claimed the refresh");
            foreach (var silo in cluster.Silos)
            {
                if ((await cluster.RefreshesClaimedByAsync(silo)).Contains(session))
                    claimer = silo;
            }
            if (claimer is null)
                await Task.Delay(20);
        }
        while (!cluster.Provider.RequestsTo("/token").Any(r => r.Form.GetValueOrDefault("grant_type") == "refresh_token"))
        {
            Assert.True(wait.Elapsed < TimeSpan.FromSeconds(10), "the claiming silo never called the token endpoint");
            await Task.Delay(20);
        }
        claimer.SendSigkill();
        await claimer.WaitForExitAsync(TimeSpan.FromSeconds(10));
        cluster.Remove(claimer);
        try
        {
            using var _ = await cutOff; // a reset when the front end was the killed silo, else an answer
        }
        catch (HttpRequestException)
        {
        }

        // The survivor wakes the session with its reminder (due at +15 s). Wait past the first token's expiry.
        var untilExpiry = first.AccessTokenExpiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
        if (untilExpiry > TimeSpan.Zero)
            await Task.Delay(untilExpiry);

        var chain = cluster.Provider.TokenLog.Where(t => t.Chain == first.Chain).OrderBy(t => t.Sequence).ToList();
        var next = chain.ElementAtOrDefault(1);
        Report.Line(output, next is null
            ? $"refresh lease: first token expired at {first.AccessTokenExpiresAt:HH:mm:ss.fff}; no refresh by then (the claiming silo was killed mid-refresh)"
            : $"refresh lease: first token expired at {first.AccessTokenExpiresAt:HH:mm:ss.fff}; the refresh after the kill came at {next.IssuedAt:HH:mm:ss.fff}");
        Assert.True(next is not null && next.IssuedAt < first.AccessTokenExpiresAt,
            "the access token expired before any silo refreshed it: the dead silo's refresh claim outlived it");
    }
}

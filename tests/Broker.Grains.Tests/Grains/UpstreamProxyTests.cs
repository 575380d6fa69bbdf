using System.Text;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Testing.Runtime;
using Broker.Testing.Upstreams;

namespace Broker.Grains.Tests.Grains;

/// <summary>The session's upstream proxy against a real fake provider whose userinfo is the "API".</summary>
public sealed class UpstreamProxyTests
{
    private static async Task<BrokerGrainsKit> StartAsync(bool withApi = true, bool wakeupsFollowClock = true, TimeSpan? upstreamCallTimeout = null)
    {
        var kit = await BrokerGrainsKit.StartAsync(wakeupsFollowClock: wakeupsFollowClock, upstreamCallTimeout: upstreamCallTimeout);
        if (withApi)
            await kit.Grains.Tenant(kit.TenantId).PutConnectionAsync(
                kit.Provider.OidcConnection() with { Id = BrokerGrainsKit.Connection, ApiBaseUrl = kit.Provider.Issuer + "/" });
        return kit;
    }

    private static UpstreamCall Get(string path) => new("GET", path, null, null);

    [Fact]
    public async Task A_call_goes_out_with_the_sessions_token_and_the_answer_comes_back_unchanged()
    {
        await using var kit = await StartAsync();
        var session = await kit.LoginAsync();
        var token = Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(kit.Tenant));

        var outcome = await kit.Session(session).CallUpstreamAsync(kit.Tenant, Get("userinfo"));

        var response = Assert.IsType<UpstreamCallOutcome.Response>(outcome);
        Assert.Equal(200, response.Status);
        Assert.Contains(kit.Provider.User.Subject, Encoding.UTF8.GetString(response.Body));
        Assert.Equal($"Bearer {token.AccessToken}", kit.Provider.RequestsTo("/userinfo").Last().Authorization);
    }

    [Theory]
    [InlineData("../jwks")]
    [InlineData("%2e%2e/jwks")]
    [InlineData("a/%2F..%2Fjwks")]
    [InlineData("https://evil.example/steal")]
    [InlineData("//evil.example/steal")]
    [InlineData("http://user@127.0.0.1/userinfo")]
    [InlineData("..\\jwks")]
    public async Task A_target_outside_the_api_base_is_refused_before_anything_is_sent(string path)
    {
        await using var kit = await StartAsync();
        await kit.Grains.Tenant(kit.TenantId).PutConnectionAsync(
            kit.Provider.OidcConnection() with { Id = BrokerGrainsKit.Connection, ApiBaseUrl = kit.Provider.Issuer + "/api/" });
        var session = await kit.LoginAsync();
        var before = kit.Provider.Requests.Count;

        var outcome = await kit.Session(session).CallUpstreamAsync(kit.Tenant, Get(path));

        Assert.Equal("invalid_upstream_target", Assert.IsType<UpstreamCallOutcome.Refused>(outcome).Code);
        Assert.Equal(before, kit.Provider.Requests.Count);
    }

    [Fact]
    public async Task A_rejected_token_is_refreshed_once_and_the_call_retried()
    {
        await using var kit = await StartAsync();
        var session = await kit.LoginAsync();
        kit.Provider.FailNext(FakeEndpoint.Userinfo, new FakeFailure.Status(401));

        var outcome = await kit.Session(session).CallUpstreamAsync(kit.Tenant, Get("userinfo"));

        Assert.Equal(200, Assert.IsType<UpstreamCallOutcome.Response>(outcome).Status);
        Assert.Equal(1, kit.RefreshRequests);
    }

    [Fact]
    public async Task A_due_token_is_refreshed_before_the_call()
    {
        await using var kit = await StartAsync(wakeupsFollowClock: false);
        kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var session = await kit.LoginAsync();
        kit.Clock.Advance(TimeSpan.FromMinutes(9.5)); // due; no timer or reminder has run

        await kit.Session(session).CallUpstreamAsync(kit.Tenant, Get("userinfo"));

        Assert.Equal(1, kit.RefreshRequests);
        var token = Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(kit.Tenant));
        Assert.Equal($"Bearer {token.AccessToken}", kit.Provider.RequestsTo("/userinfo").Last().Authorization);
    }

    [Fact]
    public async Task Time_and_size_are_capped()
    {
        await using var kit = await StartAsync(upstreamCallTimeout: TimeSpan.FromSeconds(2));
        var session = await kit.LoginAsync();

        kit.Provider.FailNext(FakeEndpoint.Userinfo, FakeFailure.Hang);
        var hung = await kit.Session(session).CallUpstreamAsync(kit.Tenant, Get("userinfo"));
        Assert.Equal("upstream_unavailable", Assert.IsType<UpstreamCallOutcome.Unavailable>(hung).Code);

        kit.Provider.UserinfoExtra = new() { ["blob"] = new string('x', UpstreamProxy.MaxResponseBytes) };
        var huge = await kit.Session(session).CallUpstreamAsync(kit.Tenant, Get("userinfo"));
        Assert.Equal("upstream_response_too_large", Assert.IsType<UpstreamCallOutcome.Unavailable>(huge).Code);
    }

    [Fact]
    public async Task Without_an_api_base_or_after_the_end_nothing_is_sent()
    {
        await using var kit = await StartAsync(withApi: false);
        var session = await kit.LoginAsync();

        Assert.Equal("no_upstream_api", Assert.IsType<UpstreamCallOutcome.Refused>(await kit.Session(session).CallUpstreamAsync(kit.Tenant, Get("userinfo"))).Code);
        await kit.Session(session).EndAsync(kit.Tenant, EndReasons.Logout);
        Assert.IsType<UpstreamCallOutcome.Ended>(await kit.Session(session).CallUpstreamAsync(kit.Tenant, Get("userinfo")));
        Assert.IsType<UpstreamCallOutcome.NotFound>(await kit.Session(session).CallUpstreamAsync(new TenantRef("other-tenant", ""), Get("userinfo")));
    }
}

using System.Text;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.JAccount;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Grains.Tests.Providers;

public sealed class JAccountConnectorTests
{
    private static ConnectionConfig Connection(FakeJAccount fake) => new()
    {
        Id = "sjtu",
        Type = "jaccount",
        ClientId = fake.ClientId,
        ClientSecret = fake.ClientSecret,
        BaseUrl = fake.Upstream.BaseUrl,
        ApiBaseUrl = fake.Upstream.BaseUrl + "/",
        Scopes = ["openid", "basic"],
    };

    [Fact]
    public async Task Login_verifies_the_hs256_id_token_and_reads_the_profile_from_its_claims()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeJAccount.StartAsync(kit.Clock);

        var result = await kit.LoginAsync(kit.Create(Connection(fake)));

        var authorize = Assert.Single(fake.Upstream.RequestsTo("/oauth2/authorize")).Request;
        Assert.Equal("openid basic", authorize.Query["scope"]);
        Assert.False(string.IsNullOrEmpty(authorize.Query["nonce"]));
        var token = Assert.Single(fake.Upstream.RequestsTo("/oauth2/token")).Request;
        Assert.Null(token.Authorization); // credentials in the body, as PJ and NJ send them
        Assert.Equal(fake.ClientSecret, token.Form["client_secret"]);
        Assert.Equal("zhangsan", result.Profile.Subject);
        Assert.Equal("张三", result.Profile.Name);
        Assert.Equal("518030910001", result.Profile.Raw["code"]!.GetValue<string>());
        Assert.Equal("student", result.Profile.Raw["type"]!.GetValue<string>());
        Assert.NotNull(result.Tokens.RefreshToken);
    }

    [Theory]
    [InlineData("iss-without-slash")]
    [InlineData("other-audience")]
    [InlineData("other-nonce")]
    [InlineData("forged-key")]
    [InlineData("expired")]
    public async Task A_bad_id_token_is_refused(string forgery)
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeJAccount.StartAsync(kit.Clock);
        switch (forgery)
        {
            case "iss-without-slash": fake.TweakClaims = c => c["iss"] = fake.Issuer.TrimEnd('/'); break;
            case "other-audience": fake.TweakClaims = c => c["aud"] = "someone-else"; break;
            case "other-nonce": fake.TweakClaims = c => c["nonce"] = "replayed"; break;
            case "forged-key": fake.SigningKeyOverride = "not-the-secret"; break;
            case "expired": fake.TweakClaims = c => c["exp"] = kit.Clock.GetUtcNow().AddMinutes(-3).ToUnixTimeSeconds(); break;
        }

        var error = await Assert.ThrowsAsync<ConnectorException>(() => kit.LoginAsync(kit.Create(Connection(fake))));

        Assert.Equal(ConnectorErrorKind.InvalidCallback, error.Kind);
    }

    [Fact]
    public async Task An_id_token_expired_within_the_clock_skew_is_accepted()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeJAccount.StartAsync(kit.Clock);
        fake.TweakClaims = c => c["exp"] = kit.Clock.GetUtcNow().AddSeconds(-30).ToUnixTimeSeconds();

        var result = await kit.LoginAsync(kit.Create(Connection(fake)));

        Assert.Equal("zhangsan", result.Profile.Subject);
    }

    [Fact]
    public async Task Refresh_sends_the_client_credentials_in_the_body_and_keeps_the_refresh_token()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeJAccount.StartAsync(kit.Clock);
        var connector = (IRefreshConnector)kit.Create(Connection(fake));
        var login = await kit.LoginAsync(connector);

        var fresh = await connector.RefreshAsync(login.Tokens, CancellationToken.None);

        var request = fake.Upstream.RequestsTo("/oauth2/token")[^1].Request;
        Assert.Equal("refresh_token", request.Form["grant_type"]);
        Assert.Equal(fake.ClientId, request.Form["client_id"]);
        Assert.Equal(fake.ClientSecret, request.Form["client_secret"]);
        Assert.NotEqual(login.Tokens.AccessToken, fresh.AccessToken);
        Assert.Equal(login.Tokens.RefreshToken, fresh.RefreshToken);
    }

    [Fact]
    public async Task The_api_is_called_with_bearer_and_errno_10007_asks_for_refresh_and_retry()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeJAccount.StartAsync(kit.Clock);
        var connector = kit.Create(Connection(fake));
        var login = await kit.LoginAsync(connector);

        var ok = await ProviderTestKit.CallApiAsync(connector, login, "v1/me/profile");
        Assert.Null(ok.Failure);
        Assert.Contains("\"account\":\"zhangsan\"", ok.Body);
        Assert.StartsWith("Bearer ", Assert.Single(fake.Upstream.RequestsTo("/v1/me/profile")).Request.Authorization);

        fake.ExpireAccessTokens();
        var expired = await ProviderTestKit.CallApiAsync(connector, login, "v1/me/profile");
        Assert.Equal(200, expired.Status); // the failure arrives with HTTP 200
        Assert.Equal(ApiFailureKind.TokenRejected, expired.Failure!.Kind);
        Assert.Equal("10007", expired.Failure.Code);

        var fresh = await ((IRefreshConnector)connector).RefreshAsync(login.Tokens, CancellationToken.None);
        var retried = await ProviderTestKit.CallApiAsync(connector, login, "v1/me/profile", tokens: fresh);
        Assert.Null(retried.Failure);
    }

    [Theory]
    [InlineData(200, """{"errno":0,"error":"success","total":1,"entities":[]}""", null)]
    [InlineData(200, """{"errno":10001,"error":"BAD_PARAMETERS\n\nMORE_INFORMATION:phones is required","total":0}""", ApiFailureKind.Failed)]
    [InlineData(200, """{"errno":10007,"error":"token expired"}""", ApiFailureKind.TokenRejected)]
    [InlineData(403, """{"errno":10002,"error":"Authentication Failed.","total":0}""", ApiFailureKind.TokenRejected)]
    [InlineData(200, """{"errno":10010,"error":"scope required"}""", ApiFailureKind.Failed)]
    [InlineData(502, "<html>bad gateway</html>", ApiFailureKind.Failed)]
    [InlineData(401, "", ApiFailureKind.TokenRejected)]
    public void The_errno_envelope_decides_over_the_status(int status, string body, ApiFailureKind? expected)
    {
        var failure = JAccountApi.Classify(status, Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, failure?.Kind);
        Assert.DoesNotContain("MORE_INFORMATION", failure?.Message ?? "");
    }

    [Fact]
    public async Task Logout_sends_the_browser_to_oauth2_logout_with_the_redirect_and_client_id()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeJAccount.StartAsync(kit.Clock);
        var connector = (ILogoutConnector)kit.Create(Connection(fake));

        var url = await connector.BuildLogoutUrlAsync(new LogoutInput("id-token", "https://app.example/bye?x=1"), CancellationToken.None);

        Assert.Equal($"{fake.Upstream.BaseUrl}/oauth2/logout?post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye%3Fx%3D1&client_id={fake.ClientId}", url!.AbsoluteUri);
        Assert.DoesNotContain("id_token_hint", url.Query);
    }

    [Fact]
    public async Task Without_overrides_the_real_endpoints_are_used()
    {
        using var kit = new ProviderTestKit();
        var connector = kit.Create(new ConnectionConfig { Id = "sjtu", Type = "jaccount", ClientId = "c", ClientSecret = "s" });

        var redirect = await connector.BuildAuthorizeRequestAsync(ProviderTestKit.NewLogin().Input, CancellationToken.None);
        var logout = await ((ILogoutConnector)connector).BuildLogoutUrlAsync(new LogoutInput(null, "https://app.example/"), CancellationToken.None);

        Assert.StartsWith("https://jaccount.sjtu.edu.cn/oauth2/authorize?", redirect.Url.AbsoluteUri);
        Assert.StartsWith("https://jaccount.sjtu.edu.cn/oauth2/logout?", logout!.AbsoluteUri);
        Assert.Equal("https://api.sjtu.edu.cn/", ((IApiConnector)connector).ApiBaseUrl!.AbsoluteUri);
    }
}

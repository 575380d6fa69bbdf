using System.Text;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.Qq;
using Broker.Testing.Upstreams;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Grains.Tests.Providers;

public sealed class QqConnectorTests
{
    internal static ConnectionConfig Connection(FakeQq fake, bool? unionId = null) => new()
    {
        Id = "qq",
        Type = "qq",
        ClientId = fake.ClientId,
        ClientSecret = fake.ClientSecret,
        BaseUrl = fake.Upstream.BaseUrl,
        Options = unionId is { } u ? new Dictionary<string, string> { ["unionId"] = u ? "true" : "false" } : new Dictionary<string, string>(),
    };

    [Fact]
    public async Task Login_gets_the_openid_from_me_and_the_profile_with_the_app_id()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeQq.StartAsync();

        var result = await kit.LoginAsync(kit.Create(Connection(fake)));

        Assert.Equal("get_user_info", Assert.Single(fake.Upstream.RequestsTo("/oauth2.0/authorize")).Request.Query["scope"]);
        var token = Assert.Single(fake.Upstream.RequestsTo("/oauth2.0/token")).Request;
        Assert.Equal("GET", token.Method);
        Assert.Equal("json", token.Query["fmt"]);
        Assert.Equal("authorization_code", token.Query["grant_type"]);
        var me = Assert.Single(fake.Upstream.RequestsTo("/oauth2.0/me")).Request;
        Assert.Equal("json", me.Query["fmt"]);
        Assert.False(me.Query.ContainsKey("unionid"));
        var info = Assert.Single(fake.Upstream.RequestsTo("/user/get_user_info")).Request;
        Assert.Equal(fake.ClientId, info.Query["oauth_consumer_key"]);
        Assert.Equal(fake.OpenId, info.Query["openid"]);
        Assert.Equal(fake.OpenId, result.Profile.Subject);
        Assert.Equal("Peter", result.Profile.Name);
        Assert.Equal("http://thirdqq.qlogo.cn/g?s=100", result.Profile.AvatarUrl);
        Assert.Equal(fake.OpenId, result.Profile.Raw["openid"]!.GetValue<string>());
        // expires_in arrives as the string "7776000".
        Assert.Equal(kit.Clock.GetUtcNow().AddSeconds(7776000), result.Tokens.ExpiresAt);
    }

    [Theory]
    [InlineData(QqShape.Json)]
    [InlineData(QqShape.Form)]
    [InlineData(QqShape.Jsonp)]
    public async Task Token_bodies_are_read_by_shape_although_all_are_text_html(QqShape shape)
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeQq.StartAsync();
        fake.TokenShape = shape;
        fake.MeAlwaysJsonp = true;

        var result = await kit.LoginAsync(kit.Create(Connection(fake)));

        Assert.Equal(fake.OpenId, result.Profile.Subject);
        Assert.NotNull(result.Tokens.RefreshToken);
        Assert.Equal(kit.Clock.GetUtcNow().AddSeconds(7776000), result.Tokens.ExpiresAt);
    }

    [Theory]
    [InlineData("""{"access_token":"A","expires_in":"60","refresh_token":"R"}""", "A")]
    [InlineData("""{"access_token":"A","expires_in":60}""", "A")]
    [InlineData("access_token=A%2BB&expires_in=60&refresh_token=R", "A+B")]
    [InlineData("callback( {\"access_token\":\"A\",\"expires_in\":\"60\"} );\n", "A")]
    [InlineData("  callback({\"access_token\":\"A\"});", "A")]
    public void Shapes_parse_to_the_same_object(string body, string accessToken)
    {
        var json = QqResponses.Parse(body)!;

        Assert.Equal(accessToken, json["access_token"]!.GetValue<string>());
        Assert.True(QqResponses.ExpiresIn(json) is null or 60);
    }

    [Fact]
    public void An_html_error_page_is_no_shape()
    {
        Assert.Null(QqResponses.Parse("<html><body>502 Bad Gateway</body></html>"));
    }

    [Fact]
    public async Task The_union_id_is_asked_for_when_the_option_says_so()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeQq.StartAsync();

        var result = await kit.LoginAsync(kit.Create(Connection(fake, unionId: true)));

        Assert.Equal("1", Assert.Single(fake.Upstream.RequestsTo("/oauth2.0/me")).Request.Query["unionid"]);
        Assert.Equal("UID_" + fake.OpenId, result.Profile.Raw["unionid"]!.GetValue<string>());
        Assert.Equal(fake.OpenId, result.Profile.Subject);
    }

    [Fact]
    public async Task A_union_id_without_approval_is_a_misconfiguration()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeQq.StartAsync();
        fake.UnionIdApproved = false;

        var error = await Assert.ThrowsAsync<ConnectorException>(() => kit.LoginAsync(kit.Create(Connection(fake, unionId: true))));

        Assert.Equal(ConnectorErrorKind.Misconfigured, error.Kind);
        Assert.Equal("100048", error.UpstreamError);
    }

    [Fact]
    public async Task Refresh_tokens_are_single_use()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeQq.StartAsync();
        var connector = (IRefreshConnector)kit.Create(Connection(fake));
        var login = await kit.LoginAsync(connector);

        var fresh = await connector.RefreshAsync(login.Tokens, CancellationToken.None);
        var refresh = fake.Upstream.RequestsTo("/oauth2.0/token")[^1].Request;
        Assert.Equal("refresh_token", refresh.Query["grant_type"]);
        Assert.Equal(login.Tokens.RefreshToken, refresh.Query["refresh_token"]);
        Assert.NotEqual(login.Tokens.RefreshToken, fresh.RefreshToken);

        var reuse = await Assert.ThrowsAsync<ConnectorException>(() => connector.RefreshAsync(login.Tokens, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, reuse.Kind);
        Assert.Equal("100015", reuse.UpstreamError);
        Assert.NotNull(await connector.RefreshAsync(fresh, CancellationToken.None));
    }

    [Fact]
    public async Task A_reused_code_is_invalid_grant()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeQq.StartAsync();
        var connector = kit.Create(Connection(fake));
        var login = ProviderTestKit.NewLogin();
        var callback = await ProviderTestKit.AuthorizeAsync(connector, login);
        await connector.CompleteAsync(callback, login.Pending, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ConnectorException>(() => connector.CompleteAsync(callback, login.Pending, CancellationToken.None));

        Assert.Equal(ConnectorErrorKind.InvalidGrant, error.Kind);
        Assert.Equal("100019", error.UpstreamError);
        Assert.Contains("error 100019", error.Message);
    }

    [Fact]
    public async Task The_secret_never_reaches_an_exception_even_when_qq_echoes_the_query()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeQq.StartAsync();
        fake.EchoQueryInErrors = true;
        var secret = fake.ClientSecret;
        var connector = kit.Create(Connection(fake));
        fake.ClientSecret = "rotated-away";

        var error = await Assert.ThrowsAsync<ConnectorException>(() => kit.LoginAsync(connector));

        Assert.Equal(ConnectorErrorKind.Misconfigured, error.Kind);
        Assert.Equal("100009", error.UpstreamError);
        Assert.StartsWith("client_secret=***: client secret is illegal (?grant_type=", error.UpstreamErrorDescription); // the echo arrived ...
        AssertNoSecret(error, secret); // ... without the secret
        Assert.Contains(secret, Assert.Single(fake.Upstream.RequestsTo("/oauth2.0/token")).RawQuery);
    }

    [Fact]
    public async Task The_secret_never_reaches_an_exception_when_the_token_endpoint_hangs_or_is_gone()
    {
        using var kit = new ProviderTestKit(new() { AttemptTimeout = TimeSpan.FromMilliseconds(300), TotalTimeout = TimeSpan.FromSeconds(2), BaseDelay = TimeSpan.FromMilliseconds(10) });
        await using var fake = await FakeQq.StartAsync();
        var connector = kit.Create(Connection(fake));
        fake.Upstream.FailNext("token", FakeFailure.Hang);

        var hung = await Assert.ThrowsAsync<ConnectorException>(() => kit.LoginAsync(connector));
        Assert.Equal(ConnectorErrorKind.UpstreamUnavailable, hung.Kind);
        AssertNoSecret(hung, fake.ClientSecret);

        var gone = kit.Create(Connection(fake) with { Endpoints = new() { Token = "http://127.0.0.1:9/oauth2.0/token" } });
        var refused = await Assert.ThrowsAsync<ConnectorException>(() => kit.LoginAsync(gone));
        Assert.Equal(ConnectorErrorKind.UpstreamUnavailable, refused.Kind);
        AssertNoSecret(refused, fake.ClientSecret);
    }

    [Fact]
    public async Task The_api_gets_the_token_app_id_and_openid_in_the_query_and_ret_codes_are_classified()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeQq.StartAsync();
        var connector = kit.Create(Connection(fake));
        var login = await kit.LoginAsync(connector);

        var ok = await ProviderTestKit.CallApiAsync(connector, login, "user/get_user_info");
        Assert.Null(ok.Failure);
        var sent = fake.Upstream.RequestsTo("/user/get_user_info")[^1].Request;
        Assert.Equal(login.Tokens.AccessToken, sent.Query["access_token"]);
        Assert.Equal(fake.ClientId, sent.Query["oauth_consumer_key"]);
        Assert.Equal(fake.OpenId, sent.Query["openid"]);

        fake.ExpireAccessTokens();
        var expired = await ProviderTestKit.CallApiAsync(connector, login, "user/get_user_info");
        Assert.Equal(200, expired.Status);
        Assert.True(expired.Failure!.RefreshAndRetry);
        Assert.Equal("100014", expired.Failure.Code);

        var fresh = await ((IRefreshConnector)connector).RefreshAsync(login.Tokens, CancellationToken.None);
        Assert.Null((await ProviderTestKit.CallApiAsync(connector, login, "user/get_user_info", tokens: fresh)).Failure);
    }

    [Theory]
    [InlineData("""{"ret":0,"msg":"","nickname":"x"}""", null)]
    [InlineData("""{"ret":1002,"msg":"请先登录"}""", ApiFailureKind.TokenRejected)]
    [InlineData("""{"ret":100016,"msg":"access token check failed"}""", ApiFailureKind.TokenRejected)]
    [InlineData("callback( {\"error\":100013,\"error_description\":\"access token is illegal\"} );", ApiFailureKind.TokenRejected)]
    [InlineData("""{"ret":100030,"msg":"no permission"}""", ApiFailureKind.Failed)]
    [InlineData("""{"ret":-1,"msg":"system error"}""", ApiFailureKind.Failed)]
    public async Task Api_answers_are_classified_by_ret_and_error(string body, ApiFailureKind? expected)
    {
        using var kit = new ProviderTestKit();
        var connector = (IApiConnector)kit.Create(new ConnectionConfig { Id = "qq", Type = "qq", ClientId = "1", ClientSecret = "s" });
        await Task.CompletedTask;

        Assert.Equal(expected, connector.ClassifyApiResponse(200, Encoding.UTF8.GetBytes(body))?.Kind);
    }

    [Fact]
    public async Task Without_overrides_the_real_endpoints_are_used()
    {
        using var kit = new ProviderTestKit();
        var connector = kit.Create(new ConnectionConfig { Id = "qq", Type = "qq", ClientId = "1", ClientSecret = "s", Scopes = ["get_user_info", "get_vip_info"] });

        var redirect = await connector.BuildAuthorizeRequestAsync(ProviderTestKit.NewLogin().Input, CancellationToken.None);

        Assert.StartsWith("https://graph.qq.com/oauth2.0/authorize?", redirect.Url.AbsoluteUri);
        Assert.Contains("scope=get_user_info%2Cget_vip_info", redirect.Url.Query); // comma-separated (AC)
        Assert.Equal("https://graph.qq.com/", ((IApiConnector)connector).ApiBaseUrl!.AbsoluteUri);
    }

    internal static void AssertNoSecret(Exception error, string secret)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            Assert.DoesNotContain(secret, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Uri.EscapeDataString(secret), e.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(secret, error.ToString(), StringComparison.Ordinal);
        if (error is ConnectorException c)
        {
            Assert.DoesNotContain(secret, c.UpstreamErrorDescription ?? "", StringComparison.Ordinal);
        }
    }
}

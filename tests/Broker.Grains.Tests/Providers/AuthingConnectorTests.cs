using Broker.Grains.Connectors;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Grains.Tests.Providers;

public sealed class AuthingConnectorTests
{
    private static ConnectionConfig Connection(FakeAuthing fake, string protocol = "oidc", string authMethod = TokenEndpointAuthMethods.ClientSecretBasic, Dictionary<string, string>? options = null)
    {
        options ??= [];
        options["protocol"] = protocol;
        return new ConnectionConfig
        {
            Id = "authing",
            Type = "authing",
            ClientId = fake.ClientId,
            ClientSecret = fake.ClientSecret,
            BaseUrl = fake.Upstream.BaseUrl,
            TokenEndpointAuthMethod = authMethod,
            Options = options,
        };
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("HS256")]
    public async Task Oidc_login_uses_the_app_host_paths_and_validates_the_id_token(string alg)
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeAuthing.StartAsync(kit.Clock);
        fake.IdTokenAlgorithm = alg;

        var result = await kit.LoginAsync(kit.Create(Connection(fake)));

        var authorize = Assert.Single(fake.Upstream.RequestsTo("/oidc/auth")).Request;
        Assert.Equal("S256", authorize.Query["code_challenge_method"]);
        Assert.Single(fake.Upstream.RequestsTo("/oidc/token"));
        Assert.Single(fake.Upstream.RequestsTo("/oidc/me"));
        Assert.Empty(fake.Upstream.RequestsTo("/oidc/.well-known/openid-configuration")); // no discovery round trip
        Assert.Equal("6177authinguser", result.Profile.Subject);
        Assert.Equal("ada@example.com", result.Profile.Email);
        Assert.NotNull(result.Tokens.IdToken);
    }

    [Theory]
    [InlineData(TokenEndpointAuthMethods.ClientSecretPost)]
    [InlineData(TokenEndpointAuthMethods.ClientSecretBasic)]
    [InlineData(TokenEndpointAuthMethods.None)]
    public async Task Each_token_endpoint_auth_method_is_sent_as_configured(string method)
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeAuthing.StartAsync(kit.Clock);
        fake.RequiredAuthMethod["token"] = method;
        var config = Connection(fake, authMethod: method);

        await kit.LoginAsync(kit.Create(method == TokenEndpointAuthMethods.None ? config with { ClientSecret = null } : config));

        Assert.Equal(method, fake.SeenAuthMethod["token"]);
        var token = Assert.Single(fake.Upstream.RequestsTo("/oidc/token")).Request;
        Assert.True(Broker.Grains.Connectors.Pkce.IsValidVerifier(token.Form["code_verifier"]));
    }

    [Fact]
    public async Task Offline_access_asks_for_consent_unless_the_connection_sets_its_own_prompt()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeAuthing.StartAsync(kit.Clock);
        var offline = Connection(fake) with { Scopes = ["openid", "profile", "offline_access"] };

        await kit.LoginAsync(kit.Create(offline));
        await kit.LoginAsync(kit.Create(offline with { ExtraAuthorizeParams = new Dictionary<string, string> { ["prompt"] = "login" } }));
        await kit.LoginAsync(kit.Create(Connection(fake) with { Scopes = ["openid", "profile"] }));

        var prompts = fake.Upstream.RequestsTo("/oidc/auth").Select(r => r.Request.Query.GetValueOrDefault("prompt") ?? "").ToList();
        Assert.Equal(["consent", "login", ""], prompts);
    }

    [Theory]
    [InlineData(200, """{"statusCode":200,"message":"ok","data":{"id":"u1"}}""", null)]
    [InlineData(200, """{"statusCode":401,"message":"token expired","apiCode":2207}""", Broker.Grains.Connectors.Api.ApiFailureKind.TokenRejected)]
    [InlineData(200, """{"statusCode":403,"message":"no permission"}""", Broker.Grains.Connectors.Api.ApiFailureKind.Failed)]
    [InlineData(200, """[{"statusCode":401}]""", null)]
    [InlineData(200, "not json", null)]
    [InlineData(401, """{"message":"unauthorized"}""", Broker.Grains.Connectors.Api.ApiFailureKind.TokenRejected)]
    public async Task An_api_answer_is_judged_by_the_status_authing_puts_in_its_body(int status, string body, Broker.Grains.Connectors.Api.ApiFailureKind? expected)
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeAuthing.StartAsync(kit.Clock);
        var api = (Broker.Grains.Connectors.Api.IApiConnector)kit.Create(Connection(fake));

        Assert.Equal(expected, api.ClassifyApiResponse(status, System.Text.Encoding.UTF8.GetBytes(body))?.Kind);

        using var request = new HttpRequestMessage(HttpMethod.Get, "https://example.authing.cn/api/v3/get-profile");
        api.AuthorizeApiRequest(request, new UpstreamTokens("at", "Bearer", null, null, null, null), new UpstreamProfile("s", null, null, null, []));
        Assert.Equal(fake.ClientId, request.Headers.GetValues("x-authing-app-id").Single());
    }

    [Fact]
    public async Task The_oauth_protocol_uses_the_oauth_paths_and_posts_to_me()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeAuthing.StartAsync(kit.Clock);
        var connector = (IRefreshConnector)kit.Create(Connection(fake, protocol: "oauth"));

        var result = await kit.LoginAsync(connector);
        var fresh = await connector.RefreshAsync(result.Tokens, CancellationToken.None);

        Assert.Equal("user", Assert.Single(fake.Upstream.RequestsTo("/oauth/auth")).Request.Query["scope"]);
        Assert.Equal("POST", Assert.Single(fake.Upstream.RequestsTo("/oauth/me")).Request.Method);
        Assert.Equal(2, fake.Upstream.RequestsTo("/oauth/token").Count);
        Assert.Empty(fake.Upstream.RequestsTo("/oidc/token"));
        Assert.Null(result.Tokens.IdToken);
        Assert.Equal("6177authinguser", result.Profile.Subject);
        Assert.Equal("Ada", result.Profile.Name);
        Assert.NotEqual(result.Tokens.RefreshToken, fresh.RefreshToken);
    }

    [Fact]
    public async Task Introspection_and_revocation_each_use_their_own_auth_method()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeAuthing.StartAsync(kit.Clock);
        fake.RequiredAuthMethod["token"] = TokenEndpointAuthMethods.ClientSecretBasic;
        fake.RequiredAuthMethod["introspection"] = TokenEndpointAuthMethods.ClientSecretPost;
        fake.RequiredAuthMethod["revocation"] = TokenEndpointAuthMethods.None;
        var connector = kit.Create(Connection(fake, options: new()
        {
            ["introspectionEndpointAuthMethod"] = TokenEndpointAuthMethods.ClientSecretPost,
            ["revocationEndpointAuthMethod"] = TokenEndpointAuthMethods.None,
        }));
        var login = await kit.LoginAsync(connector);

        var before = await ((IIntrospectConnector)connector).IntrospectAsync(login.Tokens.AccessToken, "access_token", CancellationToken.None);
        Assert.True(await ((IRevokeConnector)connector).RevokeAsync(login.Tokens, CancellationToken.None));
        var after = await ((IIntrospectConnector)connector).IntrospectAsync(login.Tokens.AccessToken, "access_token", CancellationToken.None);

        Assert.True(before!.Active);
        Assert.Equal("6177authinguser", before.Subject);
        Assert.False(after!.Active);
        Assert.Equal(2, fake.Upstream.RequestsTo("/oidc/token/revocation").Count); // refresh token first, then access token
        Assert.Equal(TokenEndpointAuthMethods.None, fake.SeenAuthMethod["revocation"]);
        Assert.Equal(TokenEndpointAuthMethods.ClientSecretPost, fake.SeenAuthMethod["introspection"]);
    }

    [Fact]
    public async Task Logout_is_rp_initiated_for_oidc_and_the_profile_logout_page_for_oauth()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeAuthing.StartAsync(kit.Clock);
        var input = new LogoutInput("the.id.token", "https://app.example/bye?a=b");

        var oidc = await ((ILogoutConnector)kit.Create(Connection(fake))).BuildLogoutUrlAsync(input, CancellationToken.None);
        var oauth = await ((ILogoutConnector)kit.Create(Connection(fake, protocol: "oauth"))).BuildLogoutUrlAsync(input, CancellationToken.None);

        Assert.Equal($"{fake.Upstream.BaseUrl}/oidc/session/end?id_token_hint=the.id.token&client_id={fake.ClientId}&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye%3Fa%3Db", oidc!.AbsoluteUri);
        Assert.Equal($"{fake.Upstream.BaseUrl}/login/profile/logout?redirect_uri=https%3A%2F%2Fapp.example%2Fbye%3Fa%3Db", oauth!.AbsoluteUri);
    }

    [Fact]
    public async Task The_api_below_the_app_host_gets_the_bearer_token()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeAuthing.StartAsync(kit.Clock);
        var connector = kit.Create(Connection(fake));
        var login = await kit.LoginAsync(connector);

        var ok = await ProviderTestKit.CallApiAsync(connector, login, "v3/get-profile");
        var revoked = await ProviderTestKit.CallApiAsync(connector, login, "v3/get-profile", tokens: login.Tokens with { AccessToken = "nope" });

        Assert.Null(ok.Failure);
        Assert.Contains("6177authinguser", ok.Body);
        Assert.True(revoked.Failure!.RefreshAndRetry);
    }

    [Theory]
    [InlineData("protocol", "saml", "options.protocol")]
    [InlineData("introspectionEndpointAuthMethod", "private_key_jwt", "options.introspectionEndpointAuthMethod")]
    public void Bad_authing_options_are_refused(string option, string value, string field)
    {
        var config = new ConnectionConfig { Id = "authing", Type = "authing", ClientId = "c", ClientSecret = "s", Options = new Dictionary<string, string> { [option] = value } };

        var errors = ConnectionConfigValidator.Validate(config, ["authing"], allowHttp: false);

        Assert.Contains(errors, e => e.Field == field);
    }
}

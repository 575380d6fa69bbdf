using System.Text;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Api;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Grains.Tests.Providers;

public sealed class ShangCloudConnectorTests
{
    private static ConnectionConfig Connection(FakeShangCloud fake, params string[] scopes) => new()
    {
        Id = "shangcloud",
        Type = "shangcloud",
        ClientId = fake.ClientId,
        ClientSecret = fake.ClientSecret,
        BaseUrl = fake.Upstream.BaseUrl,
        Scopes = scopes,
    };

    [Fact]
    public async Task Login_exchanges_the_code_with_raw_basic_and_reads_user_info()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeShangCloud.StartAsync();

        var result = await kit.LoginAsync(kit.Create(Connection(fake)));

        Assert.Equal("user:basic", Assert.Single(fake.Upstream.RequestsTo("/oauth/authorize")).Request.Query["scope"]);
        var token = Assert.Single(fake.Upstream.RequestsTo("/oauth/token")).Request;
        // base64("id:secret") exactly as the SDKs build it: '+', '/' and '=' are not form-encoded.
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{fake.ClientId}:{fake.ClientSecret}")), token.Authorization);
        Assert.False(token.Form.ContainsKey("client_secret"));
        var info = Assert.Single(fake.Upstream.RequestsTo("/api/user/info"));
        Assert.Equal("POST", info.Request.Method);
        Assert.Equal("{}", info.Body);
        Assert.Equal("10086", result.Profile.Subject);
        Assert.Equal("小尚", result.Profile.Name);
        Assert.Equal("xs@example.com", result.Profile.Email);
        Assert.Equal("https://cdn.example/a.png", result.Profile.AvatarUrl);
    }

    [Fact]
    public async Task Refresh_sends_the_sdk_form_with_client_id_and_basic()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeShangCloud.StartAsync();
        var connector = (IRefreshConnector)kit.Create(Connection(fake));
        var login = await kit.LoginAsync(connector);

        var fresh = await connector.RefreshAsync(login.Tokens, CancellationToken.None);

        var request = fake.Upstream.RequestsTo("/oauth/token")[^1].Request;
        Assert.Equal("refresh_token", request.Form["grant_type"]);
        Assert.Equal(fake.ClientId, request.Form["client_id"]);
        Assert.StartsWith("Basic ", request.Authorization);
        Assert.NotEqual(login.Tokens.RefreshToken, fresh.RefreshToken);
        var spent = await Assert.ThrowsAsync<ConnectorException>(() => connector.RefreshAsync(login.Tokens, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, spent.Kind);
    }

    [Fact]
    public async Task A_rotated_secret_is_used_by_the_next_call_without_restarting_anything()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeShangCloud.StartAsync();
        var stored = Connection(fake);
        await kit.LoginAsync(kit.Create(stored));

        fake.ClientSecret = "new/secret+2";
        var stale = await Assert.ThrowsAsync<ConnectorException>(() => kit.LoginAsync(kit.Create(stored)));
        Assert.Equal(ConnectorErrorKind.Misconfigured, stale.Kind);

        // The grain reads the connection per call and the factory builds a fresh connector from it.
        var result = await kit.LoginAsync(kit.Create(stored with { ClientSecret = "new/secret+2" }));
        Assert.Equal("10086", result.Profile.Subject);
    }

    [Fact]
    public async Task The_variables_api_is_reached_through_the_proxy_with_the_token_type_header()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeShangCloud.StartAsync();
        var connector = kit.Create(Connection(fake, "user:basic", "var:io"));
        var login = await kit.LoginAsync(connector);
        Assert.Equal(new Uri(fake.Upstream.BaseUrl + "/api/"), ((IApiConnector)connector).ApiBaseUrl);

        var write = await ProviderTestKit.CallApiAsync(connector, login, "varibles", HttpMethod.Post, Json("""{"key":"score","action":"write","value":"42"}"""));
        var read = await ProviderTestKit.CallApiAsync(connector, login, "/api/varibles", HttpMethod.Post, Json("""{"key":"score","action":"read"}"""));
        var missing = await ProviderTestKit.CallApiAsync(connector, login, "varibles", HttpMethod.Post, Json("""{"key":"nope","action":"read"}"""));

        Assert.Null(write.Failure);
        Assert.Contains("\"value\":\"42\"", read.Body);
        Assert.Equal($"Bearer {login.Tokens.AccessToken}", fake.Upstream.RequestsTo("/api/varibles")[0].Request.Authorization);
        Assert.Equal(ApiFailureKind.Failed, missing.Failure!.Kind); // 200 with a non-empty "error"

        var expired = await ProviderTestKit.CallApiAsync(connector, login, "varibles", HttpMethod.Post, Json("{}"), login.Tokens with { AccessToken = "revoked" });
        Assert.True(expired.Failure!.RefreshAndRetry);
    }

    [Fact]
    public async Task Without_overrides_the_real_host_serves_everything()
    {
        using var kit = new ProviderTestKit();
        var connector = kit.Create(new ConnectionConfig { Id = "sc", Type = "shangcloud", ClientId = "c", ClientSecret = "s" });

        var redirect = await connector.BuildAuthorizeRequestAsync(ProviderTestKit.NewLogin().Input, CancellationToken.None);

        Assert.StartsWith("https://api.yearnstudio.cn/oauth/authorize?", redirect.Url.AbsoluteUri);
        Assert.Equal("https://api.yearnstudio.cn/api/", ((IApiConnector)connector).ApiBaseUrl!.AbsoluteUri);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}

using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Api;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Grains.Tests.Providers;

public sealed class GitHubConnectorTests
{
    private static ConnectionConfig Connection(FakeGitHub fake) => new()
    {
        Id = "github",
        Type = "github",
        ClientId = fake.ClientId,
        ClientSecret = fake.ClientSecret,
        BaseUrl = fake.Upstream.BaseUrl,
        Scopes = ["read:user", "user:email"],
    };

    [Fact]
    public async Task A_classic_token_has_no_expiry_and_no_refresh_token()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeGitHub.StartAsync();

        var result = await kit.LoginAsync(kit.Create(Connection(fake)));

        var token = Assert.Single(fake.Upstream.RequestsTo("/login/oauth/access_token")).Request;
        Assert.Contains("application/json", token.Headers["Accept"]);
        Assert.Equal(fake.ClientSecret, token.Form["client_secret"]);
        Assert.Null(result.Tokens.ExpiresAt); // the session keeps it and arms no refresh
        Assert.Null(result.Tokens.RefreshToken);
        Assert.Equal("read:user user:email", result.Tokens.Scope); // comma-separated upstream
        Assert.Equal("583231", result.Profile.Subject);
        Assert.Equal("The Octocat", result.Profile.Name);
        Assert.Equal("https://avatars.githubusercontent.com/u/583231", result.Profile.AvatarUrl);
    }

    [Fact]
    public async Task A_private_email_is_the_primary_verified_one_from_user_emails()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeGitHub.StartAsync();

        var result = await kit.LoginAsync(kit.Create(Connection(fake)));

        Assert.Equal("octocat@example.com", result.Profile.Email);
        Assert.Single(fake.Upstream.RequestsTo("/api/v3/user/emails"));
        Assert.All(fake.Upstream.Requests.Where(r => r.Path.StartsWith("/api/v3/")), r => Assert.Equal("Broker", r.Request.Headers["User-Agent"]));
    }

    [Fact]
    public async Task A_public_email_needs_no_second_call()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeGitHub.StartAsync();
        fake.PublicEmail = "public@example.com";

        var result = await kit.LoginAsync(kit.Create(Connection(fake)));

        Assert.Equal("public@example.com", result.Profile.Email);
        Assert.Empty(fake.Upstream.RequestsTo("/api/v3/user/emails"));
    }

    [Fact]
    public async Task An_error_with_http_200_is_an_error_not_a_token()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeGitHub.StartAsync();
        var connector = kit.Create(Connection(fake));
        var login = ProviderTestKit.NewLogin();
        var callback = await ProviderTestKit.AuthorizeAsync(connector, login);
        await connector.CompleteAsync(callback, login.Pending, CancellationToken.None);

        var reused = await Assert.ThrowsAsync<ConnectorException>(() => connector.CompleteAsync(callback, login.Pending, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, reused.Kind);
        Assert.Equal("bad_verification_code", reused.UpstreamError);

        var wrongSecret = kit.Create(Connection(fake) with { ClientSecret = "wrong" });
        var refused = await Assert.ThrowsAsync<ConnectorException>(() => kit.LoginAsync(wrongSecret));
        Assert.Equal(ConnectorErrorKind.Misconfigured, refused.Kind);
        Assert.Equal("incorrect_client_credentials", refused.UpstreamError);
    }

    [Fact]
    public async Task Expiring_tokens_refresh_and_rotate_and_a_spent_refresh_token_is_invalid_grant()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeGitHub.StartAsync();
        fake.ExpiringTokens = true;
        var connector = (IRefreshConnector)kit.Create(Connection(fake));
        var login = await kit.LoginAsync(connector);
        Assert.Equal(kit.Clock.GetUtcNow().AddSeconds(28800), login.Tokens.ExpiresAt); // "28800", a string
        Assert.StartsWith("ghr_", login.Tokens.RefreshToken);

        var fresh = await connector.RefreshAsync(login.Tokens, CancellationToken.None);

        var request = fake.Upstream.RequestsTo("/login/oauth/access_token")[^1].Request;
        Assert.Equal("refresh_token", request.Form["grant_type"]);
        Assert.Equal(fake.ClientSecret, request.Form["client_secret"]);
        Assert.NotEqual(login.Tokens.RefreshToken, fresh.RefreshToken);
        var spent = await Assert.ThrowsAsync<ConnectorException>(() => connector.RefreshAsync(login.Tokens, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, spent.Kind);
        Assert.Equal("bad_refresh_token", spent.UpstreamError);
    }

    [Fact]
    public async Task The_api_gets_bearer_and_user_agent_and_401_asks_for_refresh()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeGitHub.StartAsync();
        var connector = kit.Create(Connection(fake));
        var login = await kit.LoginAsync(connector);

        var ok = await ProviderTestKit.CallApiAsync(connector, login, "user");
        var bad = await ProviderTestKit.CallApiAsync(connector, login, "/api/v3/user", tokens: login.Tokens with { AccessToken = "gho_revoked" });

        Assert.Null(ok.Failure);
        Assert.Contains("octocat", ok.Body);
        var sent = fake.Upstream.RequestsTo("/api/v3/user")[^2].Request;
        Assert.Equal($"Bearer {login.Tokens.AccessToken}", sent.Authorization);
        Assert.Equal("Broker", sent.Headers["User-Agent"]);
        Assert.True(bad.Failure!.RefreshAndRetry);
    }

    [Fact]
    public async Task Revocation_deletes_the_token_through_the_applications_api()
    {
        using var kit = new ProviderTestKit();
        await using var fake = await FakeGitHub.StartAsync();
        var connector = (IRevokeConnector)kit.Create(Connection(fake));
        var login = await kit.LoginAsync(connector);

        Assert.True(await connector.RevokeAsync(login.Tokens, CancellationToken.None));
        Assert.False(fake.IsActive(login.Tokens.AccessToken));
        Assert.True(await connector.RevokeAsync(login.Tokens, CancellationToken.None)); // already gone: 404 is fine
        var delete = fake.Upstream.RequestsTo($"/api/v3/applications/{fake.ClientId}/token")[0];
        Assert.Equal("DELETE", delete.Request.Method);
        Assert.StartsWith("Basic ", delete.Request.Authorization);
        Assert.Contains(login.Tokens.AccessToken, delete.Body);
    }

    [Fact]
    public async Task Without_overrides_github_com_and_api_github_com_are_used()
    {
        using var kit = new ProviderTestKit();
        var connector = kit.Create(new ConnectionConfig { Id = "gh", Type = "github", ClientId = "c", ClientSecret = "s" });

        var redirect = await connector.BuildAuthorizeRequestAsync(ProviderTestKit.NewLogin().Input, CancellationToken.None);

        Assert.StartsWith("https://github.com/login/oauth/authorize?", redirect.Url.AbsoluteUri);
        Assert.Contains("scope=read%3Auser%20user%3Aemail", redirect.Url.Query);
        Assert.Contains("code_challenge_method=S256", redirect.Url.Query);
        Assert.Equal("https://api.github.com/", ((IApiConnector)connector).ApiBaseUrl!.AbsoluteUri);
    }
}

using System.Text;
using Broker.Grains.Connectors;
using Broker.Testing.Upstreams;

namespace Broker.Grains.Tests.Connectors;

public sealed class TokenEndpointTests
{
    [Fact]
    public async Task Client_secret_basic_form_encodes_id_and_secret_before_base64()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.ClientId = "client:with space";
        kit.Provider.ClientSecret = "s3cr%t:+/é";

        var result = await kit.LoginAsync(kit.Oidc(TokenEndpointAuthMethods.ClientSecretBasic));

        var request = Assert.Single(kit.Provider.RequestsTo("/token"));
        // RFC 6749 §2.3.1: application/x-www-form-urlencoded, then "id:secret", then base64.
        var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes("client%3Awith+space:s3cr%25t%3A%2B%2F%C3%A9"));
        Assert.Equal($"Basic {expected}", request.Authorization);
        Assert.False(request.Form.ContainsKey("client_secret"));
        Assert.False(request.Form.ContainsKey("client_id"));
        Assert.Equal("authorization_code", request.Form["grant_type"]);
        Assert.Equal(ConnectorTestKit.RedirectUri, request.Form["redirect_uri"]);
        Assert.True(Pkce.IsValidVerifier(request.Form["code_verifier"]));
        Assert.Equal("user-1", result.Profile.Subject);
    }

    [Fact]
    public async Task Client_secret_post_sends_id_and_secret_in_the_body()
    {
        await using var kit = await ConnectorTestKit.StartAsync();

        await kit.LoginAsync(kit.Oidc(TokenEndpointAuthMethods.ClientSecretPost));

        var request = Assert.Single(kit.Provider.RequestsTo("/token"));
        Assert.Null(request.Authorization);
        Assert.Equal(kit.Provider.ClientId, request.Form["client_id"]);
        Assert.Equal(kit.Provider.ClientSecret, request.Form["client_secret"]);
        Assert.Equal("application/x-www-form-urlencoded", request.Headers["Content-Type"].Split(';')[0]);
    }

    [Fact]
    public async Task A_public_client_sends_only_its_id()
    {
        await using var kit = await ConnectorTestKit.StartAsync();

        await kit.LoginAsync(kit.Oidc(TokenEndpointAuthMethods.None));

        var request = Assert.Single(kit.Provider.RequestsTo("/token"));
        Assert.Null(request.Authorization);
        Assert.Equal(kit.Provider.ClientId, request.Form["client_id"]);
        Assert.False(request.Form.ContainsKey("client_secret"));
    }

    [Fact]
    public async Task A_wrong_pkce_verifier_is_refused_as_invalid_grant()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.Oidc();
        var login = ConnectorTestKit.NewLogin();
        var callback = await kit.AuthorizeAsync(connector, login);

        var error = await Assert.ThrowsAsync<ConnectorException>(() =>
            connector.CompleteAsync(callback, login.Pending with { CodeVerifier = Pkce.CreateVerifier() }, CancellationToken.None));

        Assert.Equal(ConnectorErrorKind.InvalidGrant, error.Kind);
        Assert.Equal("invalid_grant", error.UpstreamError);
    }

    [Fact]
    public async Task Tokens_and_expiry_come_from_the_response_with_expires_in_as_a_string()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.ExpiresInAsString = true;
        kit.Provider.AccessTokenLifetime = TimeSpan.FromSeconds(3600);

        var result = await kit.LoginAsync(kit.Oidc());

        Assert.Equal(kit.Clock.GetUtcNow().AddSeconds(3600), result.Tokens.ExpiresAt);
        Assert.Equal("Bearer", result.Tokens.TokenType);
        Assert.NotNull(result.Tokens.RefreshToken);
        Assert.NotNull(result.Tokens.IdToken);
        Assert.Equal("openid profile email", result.Tokens.Scope);
    }

    [Fact]
    public async Task Callback_errors_map_to_access_denied_or_invalid_callback()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.Oidc();
        var pending = ConnectorTestKit.NewLogin().Pending;

        var denied = await Assert.ThrowsAsync<ConnectorException>(() =>
            connector.CompleteAsync(new CallbackInput(null, "access_denied", "user said no"), pending, CancellationToken.None));
        var other = await Assert.ThrowsAsync<ConnectorException>(() =>
            connector.CompleteAsync(new CallbackInput(null, "server_error"), pending, CancellationToken.None));
        var empty = await Assert.ThrowsAsync<ConnectorException>(() =>
            connector.CompleteAsync(new CallbackInput(null), pending, CancellationToken.None));

        Assert.Equal(ConnectorErrorKind.AccessDenied, denied.Kind);
        Assert.Equal("user said no", denied.UpstreamErrorDescription);
        Assert.Equal(ConnectorErrorKind.InvalidCallback, other.Kind);
        Assert.Equal("server_error", other.UpstreamError);
        Assert.Equal(ConnectorErrorKind.InvalidCallback, empty.Kind);
        Assert.Empty(kit.Provider.RequestsTo("/token"));
    }

    [Fact]
    public async Task Refresh_with_rotation_returns_the_new_refresh_token_and_the_old_one_is_refused()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = (IRefreshConnector)kit.Oidc();
        var login = await kit.LoginAsync(connector);
        kit.Clock.Advance(TimeSpan.FromMinutes(30));

        var refreshed = await connector.RefreshAsync(login.Tokens, CancellationToken.None);

        Assert.NotEqual(login.Tokens.AccessToken, refreshed.AccessToken);
        Assert.NotEqual(login.Tokens.RefreshToken, refreshed.RefreshToken);
        Assert.Equal(login.Tokens.IdToken, refreshed.IdToken);
        Assert.Equal(kit.Clock.GetUtcNow().AddHours(1), refreshed.ExpiresAt);
        var request = kit.Provider.RequestsTo("/token")[^1];
        Assert.Equal("refresh_token", request.Form["grant_type"]);
        Assert.Equal(login.Tokens.RefreshToken, request.Form["refresh_token"]);

        var reuse = await Assert.ThrowsAsync<ConnectorException>(() => connector.RefreshAsync(login.Tokens, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, reuse.Kind);
    }

    [Fact]
    public async Task Refresh_without_rotation_keeps_the_old_refresh_token()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.RotateRefreshTokens = false;
        var connector = (IRefreshConnector)kit.OAuth2();
        var login = await kit.LoginAsync(connector);

        var first = await connector.RefreshAsync(login.Tokens, CancellationToken.None);
        var second = await connector.RefreshAsync(first, CancellationToken.None);

        Assert.Equal(login.Tokens.RefreshToken, first.RefreshToken);
        Assert.Equal(login.Tokens.RefreshToken, second.RefreshToken);
        Assert.NotEqual(first.AccessToken, second.AccessToken);
    }

    [Fact]
    public async Task Invalid_grant_at_refresh_means_the_session_must_end()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = (IRefreshConnector)kit.Oidc();
        var login = await kit.LoginAsync(connector);
        kit.Provider.FailNext(FakeEndpoint.Token, FakeFailure.OAuthError("invalid_grant", description: "refresh token expired"));

        var error = await Assert.ThrowsAsync<ConnectorException>(() => connector.RefreshAsync(login.Tokens, CancellationToken.None));

        Assert.Equal(ConnectorErrorKind.InvalidGrant, error.Kind);
        Assert.Equal("refresh token expired", error.UpstreamErrorDescription);
        Assert.DoesNotContain(login.Tokens.RefreshToken!, error.Message);
    }

    [Fact]
    public async Task Invalid_client_is_a_misconfiguration()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.Oidc(tweak: c => c with { ClientSecret = "wrong" });

        var error = await Assert.ThrowsAsync<ConnectorException>(() => kit.LoginAsync(connector));

        Assert.Equal(ConnectorErrorKind.Misconfigured, error.Kind);
        Assert.Equal("invalid_client", error.UpstreamError);
        Assert.DoesNotContain("wrong", error.Message);
    }

    [Fact]
    public async Task Revoke_sends_rfc_7009_forms_for_refresh_then_access_token()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = (IRevokeConnector)kit.Oidc();
        var login = await kit.LoginAsync(connector);

        Assert.True(await connector.RevokeAsync(login.Tokens, CancellationToken.None));

        var requests = kit.Provider.RequestsTo("/revoke");
        Assert.Equal(2, requests.Count);
        Assert.Equal(login.Tokens.RefreshToken, requests[0].Form["token"]);
        Assert.Equal("refresh_token", requests[0].Form["token_type_hint"]);
        Assert.Equal(login.Tokens.AccessToken, requests[1].Form["token"]);
        Assert.Equal("access_token", requests[1].Form["token_type_hint"]);
        Assert.StartsWith("Basic ", requests[0].Authorization);
        Assert.False(kit.Provider.IsActive(login.Tokens.AccessToken));
        Assert.False(kit.Provider.IsActive(login.Tokens.RefreshToken!));
    }

    [Fact]
    public async Task Revoke_without_an_endpoint_reports_false_and_calls_nothing()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = (IRevokeConnector)kit.OAuth2(tweak: c => c with { Endpoints = c.Endpoints with { Revocation = null } });
        var login = await kit.LoginAsync(connector);

        Assert.False(await connector.RevokeAsync(login.Tokens, CancellationToken.None));
        Assert.Empty(kit.Provider.RequestsTo("/revoke"));
    }

    [Fact]
    public async Task Introspection_reports_active_then_inactive_after_revocation()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        var connector = kit.Oidc();
        var login = await kit.LoginAsync(connector);
        var introspect = (IIntrospectConnector)connector;

        var before = await introspect.IntrospectAsync(login.Tokens.AccessToken, "access_token", CancellationToken.None);
        await ((IRevokeConnector)connector).RevokeAsync(login.Tokens, CancellationToken.None);
        var after = await introspect.IntrospectAsync(login.Tokens.AccessToken, "access_token", CancellationToken.None);

        Assert.True(before!.Active);
        Assert.Equal("user-1", before.Subject);
        Assert.False(after!.Active);
    }
}

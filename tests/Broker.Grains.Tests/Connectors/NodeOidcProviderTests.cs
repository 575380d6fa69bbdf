using System.Web;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Oidc;
using Broker.Testing.Upstreams;

namespace Broker.Grains.Tests.Connectors;

/// <summary>
/// The <c>oidc</c> connector against panva's <c>oidc-provider</c> (a certified OpenID Provider from
/// npm) run by Node on loopback: a third-party upstream whose behaviour nobody here wrote. One
/// provider serves the class; each test signs in a user of its own, so no test sees another's grant.
/// </summary>
public sealed class NodeOidcProviderTests : IClassFixture<NodeOidcProviderTests.Upstream>, IDisposable
{
    private const string PostLogoutRedirectUri = "https://broker.example/t/acme/logged-out";
    private static readonly TimeSpan AccessTokenLifetime = TimeSpan.FromSeconds(120);

    private readonly NodeOidcProvider provider;
    private readonly TestHttpClientFactory httpClients = new();

    public NodeOidcProviderTests(Upstream upstream) => provider = upstream.Provider;

    /// <summary>The provider for the class. Its secret needs RFC 6749 §2.3.1 encoding in HTTP Basic, which oidc-provider checks.</summary>
    public sealed class Upstream : IAsyncLifetime
    {
        public NodeOidcProvider Provider { get; private set; } = null!;

        public async Task InitializeAsync() => Provider = await NodeOidcProvider.StartAsync(new NodeOidcProviderOptions
        {
            ClientSecret = "s3cret: 100%+sure",
            PostLogoutRedirectUris = [PostLogoutRedirectUri],
            AccessTokenLifetime = AccessTokenLifetime,
        });

        public async Task DisposeAsync() => await Provider.DisposeAsync();
    }

    [Fact]
    public async Task Code_flow_validates_the_id_token_and_reads_the_profile()
    {
        var connector = Connector(provider);
        var login = ConnectorTestKit.NewLogin();
        var redirect = await connector.BuildAuthorizeRequestAsync(login.Input, CancellationToken.None);
        Assert.StartsWith($"{provider.IssuerIdentifier}/auth?", redirect.Url.AbsoluteUri, StringComparison.Ordinal);

        var callback = HttpUtility.ParseQueryString(new Uri(await provider.SignInAsync(redirect.Url, "alice")).Query);
        Assert.Equal(login.Input.State, callback["state"]);
        Assert.Equal(provider.IssuerIdentifier, callback["iss"]); // RFC 9207
        var result = await connector.CompleteAsync(new CallbackInput(callback["code"], callback["error"]), login.Pending, CancellationToken.None);

        Assert.Equal("alice", result.Profile.Subject);
        Assert.Equal("Alice", result.Profile.Name);
        Assert.Equal("alice@example.test", result.Profile.Email);
        // The claims are in the id_token itself (conformIdTokenClaims: false), not only in userinfo.
        var idToken = JsonWebToken.TryParse(result.Tokens.IdToken!)!.Payload;
        Assert.Equal("alice", idToken["sub"]!.GetValue<string>());
        Assert.Equal("Alice", idToken["name"]!.GetValue<string>());
        Assert.Equal("alice@example.test", idToken["email"]!.GetValue<string>());
        Assert.Equal(login.Input.Nonce, idToken["nonce"]!.GetValue<string>());

        Assert.NotNull(result.Tokens.RefreshToken);
        // offline_access survives only because the request carried prompt=consent.
        Assert.Contains("offline_access", result.Tokens.Scope!.Split(' '));
        var expiresIn = result.Tokens.ExpiresAt!.Value - DateTimeOffset.UtcNow;
        Assert.InRange(expiresIn, AccessTokenLifetime - TimeSpan.FromSeconds(15), AccessTokenLifetime + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Refresh_rotates_the_refresh_token_and_reuse_of_the_old_one_ends_the_grant()
    {
        var connector = (IRefreshConnector)Connector(provider);
        var first = (await LoginAsync(connector, provider, "bob")).Tokens;
        // oidc-provider sends an id_token at refresh too; its only changing claim is iat (whole
        // seconds), so a second later it differs from the first and the connector must validate it.
        await Task.Delay(TimeSpan.FromSeconds(1.1));

        var second = await connector.RefreshAsync(first, CancellationToken.None);
        Assert.NotEqual(first.AccessToken, second.AccessToken);
        Assert.NotNull(second.RefreshToken);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        // A new id_token, validated by the connector (OIDC Core §12.2), about the same user.
        Assert.NotEqual(first.IdToken, second.IdToken);
        Assert.Equal("bob", JsonWebToken.TryParse(second.IdToken!)!.Payload["sub"]!.GetValue<string>());

        var reused = await Assert.ThrowsAsync<ConnectorException>(() => connector.RefreshAsync(first, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, reused.Kind);
        Assert.Equal("invalid_grant", reused.UpstreamError);

        // Reuse of a rotated refresh token revokes the whole grant, the newest refresh token with it.
        var afterReuse = await Assert.ThrowsAsync<ConnectorException>(() => connector.RefreshAsync(second, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, afterReuse.Kind);
    }

    [Fact]
    public async Task Revocation_ends_the_grant_as_introspection_then_shows()
    {
        var connector = Connector(provider);
        var tokens = (await LoginAsync(connector, provider, "carol")).Tokens;
        var introspect = (IIntrospectConnector)connector;

        var before = await introspect.IntrospectAsync(tokens.AccessToken, "access_token", CancellationToken.None);
        Assert.True(before!.Active);
        Assert.Equal("carol", before.Subject);
        Assert.True((await introspect.IntrospectAsync(tokens.RefreshToken!, "refresh_token", CancellationToken.None))!.Active);

        Assert.True(await ((IRevokeConnector)connector).RevokeAsync(tokens, CancellationToken.None));

        Assert.False((await introspect.IntrospectAsync(tokens.AccessToken, "access_token", CancellationToken.None))!.Active);
        Assert.False((await introspect.IntrospectAsync(tokens.RefreshToken!, "refresh_token", CancellationToken.None))!.Active);
        var refresh = await Assert.ThrowsAsync<ConnectorException>(() => ((IRefreshConnector)connector).RefreshAsync(tokens, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, refresh.Kind);
    }

    [Fact]
    public async Task Logout_url_is_the_end_session_endpoint_with_the_id_token_hint_and_the_provider_accepts_it()
    {
        var connector = Connector(provider);
        var tokens = (await LoginAsync(connector, provider, "dave")).Tokens;

        var logout = await ((ILogoutConnector)connector).BuildLogoutUrlAsync(
            new LogoutInput(tokens.IdToken, PostLogoutRedirectUri, "logout-state"), CancellationToken.None);

        Assert.Equal($"{provider.IssuerIdentifier}/session/end", logout!.GetLeftPart(UriPartial.Path));
        var query = HttpUtility.ParseQueryString(logout.Query);
        Assert.Equal(tokens.IdToken, query["id_token_hint"]);
        Assert.Equal(provider.ClientId, query["client_id"]);

        // The provider checks the hint's signature and the registered post_logout_redirect_uri
        // before it shows the sign-out page; confirming it sends the browser back with the state.
        var back = new Uri(await provider.SignOutAsync(logout));
        Assert.Equal(PostLogoutRedirectUri, back.GetLeftPart(UriPartial.Path));
        Assert.Equal("logout-state", HttpUtility.ParseQueryString(back.Query)["state"]);
    }

    [Fact]
    public async Task A_wrong_pkce_verifier_is_refused_as_invalid_grant()
    {
        var connector = Connector(provider);
        var login = ConnectorTestKit.NewLogin();
        var redirect = await connector.BuildAuthorizeRequestAsync(login.Input, CancellationToken.None);
        var callback = HttpUtility.ParseQueryString(new Uri(await provider.SignInAsync(redirect.Url, "erin")).Query);

        var error = await Assert.ThrowsAsync<ConnectorException>(() => connector.CompleteAsync(
            new CallbackInput(callback["code"]), login.Pending with { CodeVerifier = Pkce.CreateVerifier() }, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, error.Kind);
    }

    [Fact]
    public async Task Client_secret_post_works_when_the_client_is_registered_for_it()
    {
        await using var postProvider = await NodeOidcProvider.StartAsync(new NodeOidcProviderOptions
        {
            TokenEndpointAuthMethod = TokenEndpointAuthMethods.ClientSecretPost,
        });
        var connector = (IRefreshConnector)Connector(postProvider);

        var result = await LoginAsync(connector, postProvider, "frank");
        Assert.Equal("frank", result.Profile.Subject);
        var refreshed = await connector.RefreshAsync(result.Tokens, CancellationToken.None);
        Assert.NotEqual(result.Tokens.RefreshToken, refreshed.RefreshToken);
    }

    public void Dispose() => httpClients.Dispose();

    /// <summary>
    /// A connector over real HTTP. oidc-provider keeps offline_access (and so long-lived refresh
    /// tokens) only when the request also says prompt=consent, so the connection sends it.
    /// </summary>
    private IConnector Connector(NodeOidcProvider upstream) =>
        new ConnectorFactory(httpClients, TimeProvider.System, new ConnectorOptions
        {
            Http = ConnectorTestKit.FastHttp,
            AllowHttpUpstreams = true,
        }).Create(upstream.OidcConnection() with
        {
            Scopes = ["openid", "profile", "email", "offline_access"],
            ExtraAuthorizeParams = new Dictionary<string, string> { ["prompt"] = "consent" },
        });

    private static async Task<LoginResult> LoginAsync(IConnector connector, NodeOidcProvider upstream, string user)
    {
        var login = ConnectorTestKit.NewLogin();
        var redirect = await connector.BuildAuthorizeRequestAsync(login.Input, CancellationToken.None);
        var callback = HttpUtility.ParseQueryString(new Uri(await upstream.SignInAsync(redirect.Url, user)).Query);
        Assert.Equal(login.Input.State, callback["state"]);
        return await connector.CompleteAsync(new CallbackInput(callback["code"], callback["error"], callback["error_description"]), login.Pending, CancellationToken.None);
    }
}

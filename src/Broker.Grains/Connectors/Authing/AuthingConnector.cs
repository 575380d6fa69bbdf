using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Connectors.OAuth2;
using Broker.Grains.Connectors.Oidc;

namespace Broker.Grains.Connectors.Authing;

/// <summary>
/// The <c>authing</c> connection type: an Authing application (PROVIDERS.md §4). Every endpoint is
/// relative to the app host (<c>baseUrl</c>, e.g. <c>https://{app}.authing.cn</c>) under
/// <c>/oidc/</c> or <c>/oauth/</c> by <c>options.protocol</c> (the SDKs' host and path rules). In
/// <c>oidc</c> mode it is an <see cref="OidcConnector"/> configured with Authing's paths (no
/// discovery round trip, id_token RS256 via JWKS or HS256 with the app secret, the per-app choice
/// AD describes); in <c>oauth</c> mode plain OAuth 2.0 with Authing's <c>POST /oauth/me</c>.
/// Introspection and revocation each authenticate with their own method
/// (<c>options.introspectionEndpointAuthMethod</c>, <c>options.revocationEndpointAuthMethod</c>,
/// defaulting to <c>tokenEndpointAuthMethod</c>), as Authing's app settings allow.
/// </summary>
public sealed class AuthingConnector : IRefreshConnector, IRevokeConnector, ILogoutConnector, IIntrospectConnector, IApiConnector
{
    /// <summary>The SDKs' fallback host (AP2 <c>types.py</c>), for connections stored before <c>baseUrl</c> was required.</summary>
    public const string DefaultBaseUrl = "https://core.authing.cn";

    private readonly ConnectionConfig config;
    private readonly ConnectorContext context;
    private readonly string root;
    private readonly string protocol;
    private readonly OidcConnector? oidc;

    /// <summary>Creates the connector for one connection.</summary>
    public AuthingConnector(ConnectionConfig config, ConnectorContext context)
    {
        this.config = config;
        this.context = context;
        root = config.BaseUrl ?? DefaultBaseUrl;
        protocol = config.Option("protocol") ?? "oidc";
        var e = config.Endpoints;
        Endpoints = new ConnectionEndpoints
        {
            Authorize = e.Authorize ?? Path("auth"),
            Token = e.Token ?? Path("token"),
            Userinfo = e.Userinfo ?? Path("me"),
            Revocation = e.Revocation ?? Path("token/revocation"),
            Introspection = e.Introspection ?? Path("token/introspection"),
            // RP-Initiated Logout for OIDC; the "easy" logout page otherwise (AP2, AP3).
            Logout = e.Logout ?? (IsOidc ? Path("session/end") : ProviderUrls.Join(root, "login/profile/logout")),
            Jwks = e.Jwks ?? ProviderUrls.Join(root, "oidc/.well-known/jwks.json"),
        };
        ApiBaseUrl = ProviderUrls.AsBase(config.ApiBaseUrl ?? ProviderUrls.Join(root, "api/"));
        if (IsOidc)
        {
            var options = new Dictionary<string, string>(config.Options);
            options.TryAdd("idTokenSigningAlgs", "RS256,HS256");
            // Authing issues a refresh token for offline_access only when the authorize request says
            // prompt=consent (its OIDC docs and SDKs); a prompt the tenant set itself wins.
            var extra = new Dictionary<string, string>(config.ExtraAuthorizeParams);
            if (config.Scopes.Contains("offline_access"))
                extra.TryAdd("prompt", "consent");
            oidc = new OidcConnector(config with
            {
                Type = ConnectionTypes.Oidc,
                ExtraAuthorizeParams = extra,
                // The issuer is the app host + /oidc (AP3; public configs); compared exactly.
                Issuer = config.Issuer ?? ProviderUrls.Join(root, "oidc"),
                Endpoints = Endpoints,
                Options = options,
            }, context);
        }
    }

    /// <summary>The endpoints in force, after the connection's overrides.</summary>
    public ConnectionEndpoints Endpoints { get; }

    /// <inheritdoc />
    public Uri? ApiBaseUrl { get; }

    private bool IsOidc => protocol == "oidc";

    /// <inheritdoc />
    public ValueTask<AuthorizeRedirect> BuildAuthorizeRequestAsync(AuthorizeInput input, CancellationToken cancellationToken) =>
        oidc?.BuildAuthorizeRequestAsync(input, cancellationToken)
        // The OAuth protocol's default scope is "user" (AP2).
        ?? ValueTask.FromResult(new AuthorizeRedirect(AuthorizeUrl.ForCodeFlow(
            config, Endpoints.Authorize!, input, config.Scopes.Count == 0 ? "user" : string.Join(' ', config.Scopes), sendNonce: false)));

    /// <inheritdoc />
    public async Task<LoginResult> CompleteAsync(CallbackInput callback, PendingLoginData login, CancellationToken cancellationToken)
    {
        if (oidc is not null)
        {
            return await oidc.CompleteAsync(callback, login, cancellationToken);
        }

        var code = callback.RequireCode();
        var tokens = await Client(config.TokenEndpointAuthMethod).ExchangeCodeAsync(Endpoints.Token!, code, login.RedirectUri, login.CodeVerifier, cancellationToken);
        var raw = await MeAsync(tokens, cancellationToken);
        var mapping = ProfileClaimMapping.FromOptions(config);
        mapping = mapping with { Name = [.. mapping.Name, "nickname", "username"], AvatarUrl = [.. mapping.AvatarUrl, "photo"] };
        return new LoginResult(tokens, mapping.Map(raw));
    }

    /// <inheritdoc />
    public Task<UpstreamTokens> RefreshAsync(UpstreamTokens current, CancellationToken cancellationToken) =>
        oidc?.RefreshAsync(current, cancellationToken) ?? Client(config.TokenEndpointAuthMethod).RefreshAsync(Endpoints.Token!, current, cancellationToken);

    /// <inheritdoc />
    public Task<bool> RevokeAsync(UpstreamTokens current, CancellationToken cancellationToken) =>
        RevocationSequence.RevokeAsync(Client(config.Option("revocationEndpointAuthMethod") ?? config.TokenEndpointAuthMethod), Endpoints.Revocation, current, cancellationToken);

    /// <inheritdoc />
    public async Task<TokenIntrospection?> IntrospectAsync(string token, string? tokenTypeHint, CancellationToken cancellationToken) =>
        await Client(config.Option("introspectionEndpointAuthMethod") ?? config.TokenEndpointAuthMethod)
            .IntrospectAsync(Endpoints.Introspection!, token, tokenTypeHint, cancellationToken);

    /// <summary>
    /// OIDC: <c>/oidc/session/end</c> with id_token_hint, client_id and post_logout_redirect_uri
    /// (RP-Initiated Logout §2). OAuth: <c>/login/profile/logout?redirect_uri=</c>, the SDKs' logout
    /// for non-OIDC apps. Both are URL-encoded here (the SDKs do not, PROVIDERS.md §4 quirk 3).
    /// </summary>
    public ValueTask<Uri?> BuildLogoutUrlAsync(LogoutInput input, CancellationToken cancellationToken) =>
        oidc?.BuildLogoutUrlAsync(input, cancellationToken)
        ?? ValueTask.FromResult<Uri?>(AuthorizeUrl.Build(Endpoints.Logout!, [new("redirect_uri", input.PostLogoutRedirectUri)]));

    /// <inheritdoc />
    public void AuthorizeApiRequest(HttpRequestMessage request, UpstreamTokens tokens, UpstreamProfile profile)
    {
        BearerApi.Authorize(request, tokens);
        // Authing's APIs find the app by this header, as its SDKs send it.
        request.Headers.TryAddWithoutValidation("x-authing-app-id", config.ClientId);
    }

    /// <inheritdoc />
    public ApiFailure? ClassifyApiResponse(int status, ReadOnlySpan<byte> body) => AuthingApi.Classify(status, body);

    private string Path(string path) => ProviderUrls.Join(root, $"{(IsOidc ? "oidc" : "oauth")}/{path}");

    private TokenEndpointClient Client(string authMethod) =>
        new(config with { TokenEndpointAuthMethod = authMethod }, context.Http, context.Clock);

    // AP2, AP3 and the PHP SDK POST to /{protocol}/me with the bearer token.
    private Task<JsonObject> MeAsync(UpstreamTokens tokens, CancellationToken cancellationToken) =>
        UserinfoRequest.FetchObjectAsync(context.Http, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, Endpoints.Userinfo);
            BearerApi.Authorize(request, tokens);
            return request;
        }, "Authing's userinfo endpoint", hint: null, cancellationToken);
}

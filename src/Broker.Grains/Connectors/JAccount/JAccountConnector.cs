using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.OAuth2;
using Broker.Grains.Connectors.Oidc;

namespace Broker.Grains.Connectors.JAccount;

/// <summary>
/// The <c>jaccount</c> connection type: SJTU jAccount (PROVIDERS.md §1). OIDC-shaped but not plain
/// OIDC: the id_token is HS256-signed with the client secret and there is no JWKS (quirk 1), the
/// issuer keeps its trailing slash (quirk 2), the REST API lives on another host with an
/// <c>errno</c> envelope (quirk 3), and logout is a browser redirect that clears jAccount's SSO
/// cookie. The profile comes from the id_token's claims; no API call is needed to log in.
/// </summary>
/// <remarks>
/// <c>baseUrl</c> replaces <c>https://jaccount.sjtu.edu.cn</c> (endpoints under <c>/oauth2/</c>,
/// issuer <c>{baseUrl}/oauth2/</c> unless <c>issuer</c> is set); <c>apiBaseUrl</c> replaces
/// <c>https://api.sjtu.edu.cn/</c>. Client authentication is always the form body, as the public
/// clients do it (python-oauth-jaccount, node-oauth-jaccount); <c>tokenEndpointAuthMethod</c> is ignored.
/// </remarks>
public sealed class JAccountConnector : IRefreshConnector, ILogoutConnector, IApiConnector
{
    /// <summary>The real jAccount host.</summary>
    public const string DefaultBaseUrl = "https://jaccount.sjtu.edu.cn";

    /// <summary>The real issuer, trailing slash included (SI, GJ <c>Issuer</c>).</summary>
    public const string DefaultIssuer = "https://jaccount.sjtu.edu.cn/oauth2/";

    /// <summary>The real REST API root (PJ, GJ, DJ).</summary>
    public const string DefaultApiBaseUrl = "https://api.sjtu.edu.cn/";

    // Discovery lists HS256 only (AE); anything else, RS256 included, is refused.
    private static readonly IReadOnlySet<string> Algorithms = new HashSet<string>(StringComparer.Ordinal) { "HS256" };

    private readonly ConnectionConfig config;
    private readonly TokenEndpointClient tokens;
    private readonly IdTokenValidator validator;
    private readonly string issuer;
    private readonly string authorizeEndpoint;
    private readonly string tokenEndpoint;
    private readonly string logoutEndpoint;

    /// <summary>Creates the connector for one connection; it lives for one call chain, so a rotated secret is used at once.</summary>
    public JAccountConnector(ConnectionConfig config, ConnectorContext context)
    {
        this.config = config;
        issuer = config.Issuer ?? (config.BaseUrl is null ? DefaultIssuer : ProviderUrls.Join(config.BaseUrl, "oauth2/"));
        authorizeEndpoint = ProviderUrls.Resolve(config.Endpoints.Authorize, config.BaseUrl, DefaultBaseUrl, "oauth2/authorize");
        tokenEndpoint = ProviderUrls.Resolve(config.Endpoints.Token, config.BaseUrl, DefaultBaseUrl, "oauth2/token");
        logoutEndpoint = ProviderUrls.Resolve(config.Endpoints.Logout, config.BaseUrl, DefaultBaseUrl, "oauth2/logout");
        ApiBaseUrl = ProviderUrls.AsBase(config.ApiBaseUrl ?? DefaultApiBaseUrl);
        // PJ and NJ send client_id and client_secret in the form body, for the code and for refresh.
        tokens = new TokenEndpointClient(config with { TokenEndpointAuthMethod = TokenEndpointAuthMethods.ClientSecretPost }, context.Http, context.Clock);
        validator = new IdTokenValidator(context.Metadata, context.Clock, context.Options.ClockSkew);
    }

    /// <inheritdoc />
    public Uri? ApiBaseUrl { get; }

    /// <inheritdoc />
    public ValueTask<AuthorizeRedirect> BuildAuthorizeRequestAsync(AuthorizeInput input, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new AuthorizeRedirect(AuthorizeUrl.ForCodeFlow(config, authorizeEndpoint, input, Scope(), sendNonce: true)));

    /// <inheritdoc />
    public async Task<LoginResult> CompleteAsync(CallbackInput callback, PendingLoginData login, CancellationToken cancellationToken)
    {
        var code = callback.RequireCode();
        var upstream = await tokens.ExchangeCodeAsync(tokenEndpoint, code, login.RedirectUri, login.CodeVerifier, cancellationToken);
        if (upstream.IdToken is null)
        {
            throw new ConnectorException(ConnectorErrorKind.InvalidCallback, "jAccount's token response has no id_token; is 'openid' among the scopes?");
        }

        var claims = await validator.ValidateAsync(upstream.IdToken, Expectations(login.Nonce), cancellationToken);
        // sub is the jAccount account name: always present, unlike the profile API's id (quirk 4).
        return new LoginResult(upstream, new UpstreamProfile(
            OAuth2Responses.GetString(claims, "sub")!,
            OAuth2Responses.GetString(claims, "name"),
            OAuth2Responses.GetString(claims, "email"),
            null,
            claims));
    }

    /// <inheritdoc />
    public async Task<UpstreamTokens> RefreshAsync(UpstreamTokens current, CancellationToken cancellationToken)
    {
        var fresh = await tokens.RefreshAsync(tokenEndpoint, current, cancellationToken);
        if (fresh.IdToken is { } idToken && idToken != current.IdToken)
        {
            // OIDC Core §12.2: a refreshed id_token is validated like the first, without a nonce,
            // and must be about the same user.
            var claims = await validator.ValidateAsync(idToken, Expectations(nonce: null), cancellationToken);
            var previous = current.IdToken is null ? null : JsonWebToken.TryParse(current.IdToken);
            if (previous is not null && OAuth2Responses.GetString(previous.Payload, "sub") != OAuth2Responses.GetString(claims, "sub"))
            {
                throw new ConnectorException(ConnectorErrorKind.InvalidGrant, "The refreshed id_token is about another subject (OIDC Core §12.2).");
            }
        }

        return fresh;
    }

    /// <summary>
    /// <c>/oauth2/logout?post_logout_redirect_uri=..&amp;client_id=..</c>: PJ and NJ send the
    /// redirect, public apps add client_id; jAccount takes no id_token_hint. Without this redirect
    /// jAccount's SSO cookie signs the previous user in again (PJ README).
    /// </summary>
    public ValueTask<Uri?> BuildLogoutUrlAsync(LogoutInput input, CancellationToken cancellationToken) =>
        ValueTask.FromResult<Uri?>(AuthorizeUrl.Build(logoutEndpoint, [
            new("post_logout_redirect_uri", input.PostLogoutRedirectUri),
            new("client_id", config.ClientId),
        ]));

    /// <summary>The Bearer header; GJ, PHP and DJ use it (the official overview also allows <c>?access_token=</c>).</summary>
    public void AuthorizeApiRequest(HttpRequestMessage request, UpstreamTokens tokens, UpstreamProfile profile) =>
        BearerApi.Authorize(request, tokens);

    /// <inheritdoc />
    public ApiFailure? ClassifyApiResponse(int status, ReadOnlySpan<byte> body) => JAccountApi.Classify(status, body);

    private IdTokenExpectations Expectations(string? nonce) =>
        // No JWKS: the MAC key is the UTF-8 client secret (OIDC Core §10.1); iss is compared exactly.
        new(issuer, config.ClientId ?? "", nonce, Algorithms, JwksUri: null, config.ClientSecret);

    private string Scope()
    {
        // "openid" makes jAccount issue the id_token the login is built on (SI's official example).
        var scopes = config.Scopes.Count == 0 ? ["openid"] : config.Scopes;
        return string.Join(' ', scopes.Where(s => s != "openid").Prepend("openid").Distinct(StringComparer.Ordinal));
    }
}

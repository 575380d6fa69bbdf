using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.Oidc;

/// <summary>
/// The <c>oidc</c> connection type: any OpenID Connect provider. Endpoints come from discovery
/// (cached) unless the connection names them; the id_token is validated by
/// <see cref="IdTokenValidator"/>; the profile is the id_token's claims merged with userinfo.
/// Plain-OIDC providers (Authing in OIDC mode, jAccount's OIDC) are configurations of this type.
/// </summary>
public sealed class OidcConnector : IRefreshConnector, IRevokeConnector, ILogoutConnector, IIntrospectConnector, IApiConnector
{
    private const string DefaultScope = "openid profile email";
    private readonly ConnectionConfig config;
    private readonly ConnectorContext context;
    private readonly TokenEndpointClient tokens;
    private readonly IdTokenValidator validator;
    private readonly string issuer;

    /// <summary>Creates the connector for one connection.</summary>
    public OidcConnector(ConnectionConfig config, ConnectorContext context)
    {
        this.config = config;
        this.context = context;
        issuer = config.Issuer ?? throw new ConnectorException(ConnectorErrorKind.Misconfigured, "An oidc connection needs an issuer.");
        tokens = new TokenEndpointClient(config, context.Http, context.Clock);
        validator = new IdTokenValidator(context.Metadata, context.Clock, context.Options.ClockSkew);
    }

    /// <inheritdoc />
    public async ValueTask<AuthorizeRedirect> BuildAuthorizeRequestAsync(AuthorizeInput input, CancellationToken cancellationToken)
    {
        var endpoint = config.Endpoints.Authorize ?? (await DiscoverAsync(cancellationToken)).AuthorizationEndpoint;
        return new AuthorizeRedirect(AuthorizeUrl.ForCodeFlow(config, Require(endpoint, "authorization"), input, Scope(), sendNonce: true));
    }

    /// <inheritdoc />
    public async Task<LoginResult> CompleteAsync(CallbackInput callback, PendingLoginData login, CancellationToken cancellationToken)
    {
        var code = callback.RequireCode();
        var metadata = await DiscoverIfNeededAsync(cancellationToken);
        var tokenEndpoint = Require(config.Endpoints.Token ?? metadata?.TokenEndpoint, "token");
        var upstream = await tokens.ExchangeCodeAsync(tokenEndpoint, code, login.RedirectUri, login.CodeVerifier, cancellationToken);
        if (upstream.IdToken is null)
        {
            // OIDC Core §3.1.3.3: a successful code-flow token response contains an id_token.
            throw new ConnectorException(ConnectorErrorKind.InvalidCallback, "The provider's token response has no id_token; is 'openid' among the scopes?");
        }

        var claims = await validator.ValidateAsync(upstream.IdToken, Expectations(metadata, login.Nonce), cancellationToken);
        var subject = OAuth2Responses.GetString(claims, "sub")!;
        var raw = (JsonObject)claims.DeepClone();
        if ((config.Endpoints.Userinfo ?? metadata?.UserinfoEndpoint) is { } userinfoEndpoint)
        {
            var userinfo = await UserinfoRequest.GetAsync(context.Http, userinfoEndpoint, upstream, cancellationToken);
            // OIDC Core §5.3.2: a userinfo sub that differs from the id_token's must not be used;
            // it would let a token substitution attach another user's profile.
            if (OAuth2Responses.GetString(userinfo, "sub") != subject)
            {
                throw new ConnectorException(ConnectorErrorKind.InvalidCallback, "The userinfo subject differs from the id_token subject (OIDC Core §5.3.2).");
            }

            foreach (var (name, value) in userinfo)
            {
                raw[name] = value?.DeepClone();
            }
        }

        return new LoginResult(upstream, new UpstreamProfile(
            subject,
            OAuth2Responses.GetString(raw, "name") ?? OAuth2Responses.GetString(raw, "preferred_username"),
            OAuth2Responses.GetString(raw, "email"),
            OAuth2Responses.GetString(raw, "picture"),
            raw));
    }

    /// <inheritdoc />
    public async Task<UpstreamTokens> RefreshAsync(UpstreamTokens current, CancellationToken cancellationToken)
    {
        var metadata = await DiscoverIfNeededAsync(cancellationToken);
        var fresh = await tokens.RefreshAsync(Require(config.Endpoints.Token ?? metadata?.TokenEndpoint, "token"), current, cancellationToken);
        if (fresh.IdToken is { } idToken && idToken != current.IdToken)
        {
            // OIDC Core §12.2: a refreshed id_token is validated like the first (there is no
            // nonce to compare now) and must be about the same user.
            var claims = await validator.ValidateAsync(idToken, Expectations(metadata, nonce: null), cancellationToken);
            var previous = current.IdToken is null ? null : JsonWebToken.TryParse(current.IdToken);
            if (previous is not null && OAuth2Responses.GetString(previous.Payload, "sub") != OAuth2Responses.GetString(claims, "sub"))
            {
                throw new ConnectorException(ConnectorErrorKind.InvalidGrant, "The refreshed id_token is about another subject (OIDC Core §12.2).");
            }
        }

        return fresh;
    }

    /// <inheritdoc />
    public async Task<bool> RevokeAsync(UpstreamTokens current, CancellationToken cancellationToken)
    {
        var endpoint = config.Endpoints.Revocation ?? (await DiscoverIfNeededAsync(cancellationToken))?.RevocationEndpoint;
        return await RevocationSequence.RevokeAsync(tokens, endpoint, current, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<TokenIntrospection?> IntrospectAsync(string token, string? tokenTypeHint, CancellationToken cancellationToken)
    {
        var endpoint = config.Endpoints.Introspection ?? (await DiscoverIfNeededAsync(cancellationToken))?.IntrospectionEndpoint;
        return endpoint is null ? null : await tokens.IntrospectAsync(endpoint, token, tokenTypeHint, cancellationToken);
    }

    /// <summary>The connection's <c>apiBaseUrl</c>; null (no proxy) when it has none.</summary>
    public Uri? ApiBaseUrl => BearerApi.BaseFromConfig(config);

    /// <inheritdoc />
    public void AuthorizeApiRequest(HttpRequestMessage request, UpstreamTokens tokens, UpstreamProfile profile) => BearerApi.Authorize(request, tokens);

    /// <inheritdoc />
    public ApiFailure? ClassifyApiResponse(int status, ReadOnlySpan<byte> body) => BearerApi.Classify(status);

    /// <inheritdoc />
    public async ValueTask<Uri?> BuildLogoutUrlAsync(LogoutInput input, CancellationToken cancellationToken)
    {
        var endpoint = config.Endpoints.Logout ?? (await DiscoverAsync(cancellationToken)).EndSessionEndpoint;
        // RP-Initiated Logout §2: id_token_hint is RECOMMENDED; client_id lets the OP match the
        // post_logout_redirect_uri when the hint is missing or expired.
        return endpoint is null ? null : AuthorizeUrl.Build(endpoint, [
            new("id_token_hint", input.IdTokenHint),
            new("client_id", config.ClientId),
            new("post_logout_redirect_uri", input.PostLogoutRedirectUri),
            new("state", input.State),
        ]);
    }

    private IdTokenExpectations Expectations(OidcMetadata? metadata, string? nonce)
    {
        var configured = config.Option("idTokenSigningAlgs")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var allowed = configured is { Length: > 0 }
            ? configured.Where(a => IdTokenValidator.AsymmetricAlgorithms.Contains(a) || IdTokenValidator.HmacAlgorithms.Contains(a))
            // HS* from discovery alone is never trusted: a symmetric alg must be chosen by the tenant.
            : metadata?.IdTokenSigningAlgValuesSupported.Where(IdTokenValidator.AsymmetricAlgorithms.Contains) ?? [];
        var set = allowed.ToHashSet(StringComparer.Ordinal);
        if (set.Count == 0)
        {
            set.Add("RS256"); // the default of OIDC Core §3.1.3.7 step 7
        }

        return new IdTokenExpectations(issuer, config.ClientId ?? "", nonce, set, config.Endpoints.Jwks ?? metadata?.JwksUri, config.ClientSecret);
    }

    private string Scope()
    {
        var scopes = config.Scopes.Count == 0 ? DefaultScope.Split(' ') : config.Scopes;
        // "openid" is what makes this an OIDC request (Core §3.1.2.1); it is always sent, first.
        return string.Join(' ', scopes.Where(s => s != "openid").Prepend("openid").Distinct(StringComparer.Ordinal));
    }

    private Task<OidcMetadata> DiscoverAsync(CancellationToken cancellationToken) =>
        context.Metadata.GetDiscoveryAsync(issuer, cancellationToken);

    // Discovery is skipped only when every endpoint this flow needs is configured explicitly.
    private async Task<OidcMetadata?> DiscoverIfNeededAsync(CancellationToken cancellationToken) =>
        config.Endpoints is { Token: not null, Jwks: not null } && config.Option("idTokenSigningAlgs") is not null
            ? null
            : await DiscoverAsync(cancellationToken);

    private static string Require(string? endpoint, string name) =>
        endpoint ?? throw new ConnectorException(ConnectorErrorKind.Misconfigured, $"The provider has no {name} endpoint.");
}

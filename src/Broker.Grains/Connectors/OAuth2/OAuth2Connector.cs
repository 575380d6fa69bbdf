using Broker.Grains.Connectors.Api;

namespace Broker.Grains.Connectors.OAuth2;

/// <summary>
/// The <c>oauth2</c> connection type: any OAuth 2.0 server with explicit endpoints. The profile
/// comes from the userinfo URL through <see cref="ProfileClaimMapping"/>; refresh, revocation,
/// introspection and logout work when the connection names their endpoints.
/// </summary>
public sealed class OAuth2Connector : IRefreshConnector, IRevokeConnector, ILogoutConnector, IIntrospectConnector, IApiConnector
{
    private readonly ConnectionConfig config;
    private readonly ConnectorContext context;
    private readonly TokenEndpointClient tokens;

    /// <summary>Creates the connector for one connection.</summary>
    public OAuth2Connector(ConnectionConfig config, ConnectorContext context)
    {
        this.config = config;
        this.context = context;
        tokens = new TokenEndpointClient(config, context.Http, context.Clock);
    }

    /// <inheritdoc />
    public ValueTask<AuthorizeRedirect> BuildAuthorizeRequestAsync(AuthorizeInput input, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new AuthorizeRedirect(
            AuthorizeUrl.ForCodeFlow(config, Require(config.Endpoints.Authorize, "authorize"), input, string.Join(' ', config.Scopes), sendNonce: false)));

    /// <inheritdoc />
    public async Task<LoginResult> CompleteAsync(CallbackInput callback, PendingLoginData login, CancellationToken cancellationToken)
    {
        var code = callback.RequireCode();
        var upstream = await tokens.ExchangeCodeAsync(Require(config.Endpoints.Token, "token"), code, login.RedirectUri, login.CodeVerifier, cancellationToken);
        var raw = await UserinfoRequest.GetAsync(context.Http, Require(config.Endpoints.Userinfo, "userinfo"), upstream, cancellationToken);
        return new LoginResult(upstream, ProfileClaimMapping.FromOptions(config).Map(raw));
    }

    /// <inheritdoc />
    public Task<UpstreamTokens> RefreshAsync(UpstreamTokens current, CancellationToken cancellationToken) =>
        tokens.RefreshAsync(Require(config.Endpoints.Token, "token"), current, cancellationToken);

    /// <inheritdoc />
    public Task<bool> RevokeAsync(UpstreamTokens current, CancellationToken cancellationToken) =>
        RevocationSequence.RevokeAsync(tokens, config.Endpoints.Revocation, current, cancellationToken);

    /// <inheritdoc />
    public async Task<TokenIntrospection?> IntrospectAsync(string token, string? tokenTypeHint, CancellationToken cancellationToken) =>
        config.Endpoints.Introspection is { } endpoint ? await tokens.IntrospectAsync(endpoint, token, tokenTypeHint, cancellationToken) : null;

    /// <summary>The connection's <c>apiBaseUrl</c>; null (no proxy) when it has none.</summary>
    public Uri? ApiBaseUrl => BearerApi.BaseFromConfig(config);

    /// <inheritdoc />
    public void AuthorizeApiRequest(HttpRequestMessage request, UpstreamTokens tokens, UpstreamProfile profile) => BearerApi.Authorize(request, tokens);

    /// <inheritdoc />
    public ApiFailure? ClassifyApiResponse(int status, ReadOnlySpan<byte> body) => BearerApi.Classify(status);

    /// <inheritdoc />
    public ValueTask<Uri?> BuildLogoutUrlAsync(LogoutInput input, CancellationToken cancellationToken) =>
        ValueTask.FromResult(config.Endpoints.Logout is { } endpoint
            ? AuthorizeUrl.Build(endpoint, [
                new("client_id", config.ClientId),
                new(config.Option("logoutRedirectParam") ?? "post_logout_redirect_uri", input.PostLogoutRedirectUri),
                new("state", input.State),
            ])
            : null);

    private static string Require(string? endpoint, string name) =>
        endpoint ?? throw new ConnectorException(ConnectorErrorKind.Misconfigured, $"The connection has no {name} endpoint.");
}

/// <summary>The order in which a session's tokens are revoked, shared by the connectors.</summary>
internal static class RevocationSequence
{
    /// <summary>
    /// Revokes the refresh token first: RFC 7009 §2.1 says revoking it should also invalidate
    /// the access tokens of the same grant, and it is the long-lived one. The access token is
    /// then revoked as well, for servers that do not cascade.
    /// </summary>
    public static async Task<bool> RevokeAsync(TokenEndpointClient tokens, string? endpoint, UpstreamTokens current, CancellationToken cancellationToken)
    {
        if (endpoint is null)
        {
            return false;
        }

        if (current.RefreshToken is { Length: > 0 } refreshToken)
        {
            await tokens.RevokeAsync(endpoint, refreshToken, "refresh_token", cancellationToken);
        }

        await tokens.RevokeAsync(endpoint, current.AccessToken, "access_token", cancellationToken);
        return true;
    }
}

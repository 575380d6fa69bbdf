using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.Qq;

/// <summary>
/// The <c>qq</c> connection type: Tencent QQ Connect (graph.qq.com, PROVIDERS.md §3). Not RFC 6749
/// on the wire: the token request is a GET with the secret in the query (AC, the wiki), bodies
/// are parsed by shape (<see cref="QqResponses"/>), the user id (openid) comes from a separate
/// <c>/oauth2.0/me</c> call, and the OpenAPI takes <c>oauth_consumer_key</c>, <c>access_token</c>
/// and <c>openid</c> as query parameters. Refresh tokens are single use (QN).
/// </summary>
/// <remarks>
/// The subject is the openid (per app; always available). With <c>options.unionId: true</c> the
/// <c>/me</c> call asks for the unionid (needs QQ's approval, else error 100048) and keeps it in the
/// profile's raw fields. The secret travels only in the token request's query: neither
/// <see cref="UpstreamHttp"/> nor this class puts a URL in a message, and .NET 9+ redacts query
/// strings in IHttpClientFactory logs (learn.microsoft.com, "URI query and fragment redaction in
/// IHttpClientFactory logs").
/// </remarks>
public sealed class QqConnector : IRefreshConnector, IApiConnector
{
    /// <summary>The real host.</summary>
    public const string DefaultBaseUrl = "https://graph.qq.com";

    private readonly ConnectionConfig config;
    private readonly ConnectorContext context;
    private readonly string baseUrl;
    private readonly string authorizeEndpoint;
    private readonly string tokenEndpoint;
    private readonly string userinfoEndpoint;

    /// <summary>Creates the connector for one connection.</summary>
    public QqConnector(ConnectionConfig config, ConnectorContext context)
    {
        this.config = config;
        this.context = context;
        baseUrl = config.BaseUrl ?? DefaultBaseUrl;
        authorizeEndpoint = ProviderUrls.Resolve(config.Endpoints.Authorize, baseUrl, DefaultBaseUrl, "oauth2.0/authorize");
        tokenEndpoint = ProviderUrls.Resolve(config.Endpoints.Token, baseUrl, DefaultBaseUrl, "oauth2.0/token");
        userinfoEndpoint = ProviderUrls.Resolve(config.Endpoints.Userinfo, baseUrl, DefaultBaseUrl, "user/get_user_info");
        ApiBaseUrl = ProviderUrls.AsBase(config.ApiBaseUrl ?? baseUrl);
    }

    /// <inheritdoc />
    public Uri? ApiBaseUrl { get; }

    /// <inheritdoc />
    public ValueTask<AuthorizeRedirect> BuildAuthorizeRequestAsync(AuthorizeInput input, CancellationToken cancellationToken)
    {
        // Scopes are comma-separated (AC FormatScope); get_user_info is what the profile needs.
        var scope = config.Scopes.Count == 0 ? "get_user_info" : string.Join(',', config.Scopes);
        return ValueTask.FromResult(new AuthorizeRedirect(AuthorizeUrl.ForCodeFlow(config, authorizeEndpoint, input, scope, sendNonce: false)));
    }

    /// <inheritdoc />
    public async Task<LoginResult> CompleteAsync(CallbackInput callback, PendingLoginData login, CancellationToken cancellationToken)
    {
        var code = callback.RequireCode();
        var tokens = await TokenAsync([
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", login.RedirectUri),
            new("code_verifier", login.CodeVerifier),
        ], current: null, cancellationToken);
        var me = await GetAsync(MeUrl(tokens.AccessToken), "openid endpoint (/oauth2.0/me)", cancellationToken);
        if (OAuth2Responses.GetString(me, "openid") is not { Length: > 0 } openid)
        {
            throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, "QQ's /oauth2.0/me answer has no openid.");
        }

        var user = await GetAsync(
            AuthorizeUrl.Build(userinfoEndpoint, [new("oauth_consumer_key", config.ClientId), new("access_token", tokens.AccessToken), new("openid", openid), new("format", "json")]).AbsoluteUri,
            "get_user_info API",
            cancellationToken);
        user["openid"] = openid;
        if (OAuth2Responses.GetString(me, "unionid") is { } unionId)
        {
            user["unionid"] = unionId;
        }

        return new LoginResult(tokens, new UpstreamProfile(
            openid,
            OAuth2Responses.GetString(user, "nickname"),
            null,
            // figureurl_qq_2 (100 px) may be missing; then the 40 px QQ avatar, then Qzone's (QN, W).
            OAuth2Responses.GetString(user, "figureurl_qq_2") is { Length: > 0 } big ? big
                : OAuth2Responses.GetString(user, "figureurl_qq_1") ?? OAuth2Responses.GetString(user, "figureurl_2"),
            user));
    }

    /// <summary>Refreshes; QQ's refresh tokens are single use, so the answer's new one replaces the old (QN).</summary>
    public Task<UpstreamTokens> RefreshAsync(UpstreamTokens current, CancellationToken cancellationToken) =>
        current.RefreshToken is { Length: > 0 } refreshToken
            ? TokenAsync([new("grant_type", "refresh_token"), new("refresh_token", refreshToken)], current, cancellationToken)
            : throw new ConnectorException(ConnectorErrorKind.InvalidGrant, "The session has no refresh token.");

    /// <summary>Adds <c>access_token</c>, <c>oauth_consumer_key</c> (the app id) and <c>openid</c> (the profile's subject) to the query.</summary>
    public void AuthorizeApiRequest(HttpRequestMessage request, UpstreamTokens tokens, UpstreamProfile profile)
    {
        var url = request.RequestUri ?? throw new ArgumentException("The request has no URL.", nameof(request));
        request.RequestUri = AuthorizeUrl.Build(url.AbsoluteUri, [
            new("access_token", tokens.AccessToken),
            new("oauth_consumer_key", config.ClientId),
            new("openid", profile.Subject),
        ]);
    }

    /// <summary><c>ret</c> 0 is success whatever the status; token codes ask for a refresh; other codes fail.</summary>
    public ApiFailure? ClassifyApiResponse(int status, ReadOnlySpan<byte> body)
    {
        var json = QqResponses.Parse(System.Text.Encoding.UTF8.GetString(body));
        if (json is not null && QqResponses.Failure(json) is ({ } code, var text))
        {
            var message = $"QQ's API failed (ret {code}): {QqResponses.Scrub(text, null)}";
            return long.TryParse(code, out var n) && QqResponses.TokenRejectedCodes.Contains(n)
                ? new ApiFailure(ApiFailureKind.TokenRejected, code, message)
                : new ApiFailure(ApiFailureKind.Failed, code, message);
        }

        return BearerApi.Classify(status);
    }

    private string MeUrl(string accessToken) =>
        AuthorizeUrl.Build(ProviderUrls.Join(baseUrl, "oauth2.0/me"), [
            new("access_token", accessToken),
            new("fmt", "json"),
            new("unionid", string.Equals(config.Option("unionId"), "true", StringComparison.OrdinalIgnoreCase) ? "1" : null),
        ]).AbsoluteUri;

    // GET /oauth2.0/token?...&client_id&client_secret&fmt=json (AC, QN). fmt=json asks for JSON; the
    // answer is still parsed by shape. Not retried after it may have reached QQ: codes and refresh
    // tokens are single use.
    private async Task<UpstreamTokens> TokenAsync(
        List<KeyValuePair<string, string?>> parameters, UpstreamTokens? current, CancellationToken cancellationToken)
    {
        parameters.Add(new("client_id", config.ClientId));
        parameters.Add(new("client_secret", config.ClientSecret));
        parameters.Add(new("fmt", "json"));
        var url = AuthorizeUrl.Build(tokenEndpoint, parameters).AbsoluteUri;
        var what = current is null ? "token endpoint" : "token endpoint (refresh)";
        var response = await context.Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), RetrySafety.NotIdempotent, what, cancellationToken);
        var json = Read(response, what);
        if (OAuth2Responses.GetString(json, "access_token") is not { Length: > 0 } accessToken)
        {
            throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, $"QQ's {what} answer has no access_token.");
        }

        var expiresIn = QqResponses.ExpiresIn(json);
        return new UpstreamTokens(
            accessToken,
            "Bearer",
            OAuth2Responses.GetString(json, "refresh_token") ?? current?.RefreshToken,
            null,
            expiresIn is { } s ? context.Clock.GetUtcNow().AddSeconds(Math.Clamp(s, 0, 366L * 24 * 3600)) : null,
            current?.Scope ?? (config.Scopes.Count == 0 ? "get_user_info" : string.Join(' ', config.Scopes)));
    }

    private async Task<JsonObject> GetAsync(string url, string what, CancellationToken cancellationToken)
    {
        var response = await context.Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), RetrySafety.Idempotent, what, cancellationToken);
        return Read(response, what);
    }

    private JsonObject Read(UpstreamResponse response, string what)
    {
        var json = QqResponses.Parse(response.Body);
        if (json is not null && QqResponses.Failure(json) is ({ } code, var text))
        {
            throw QqResponses.ToException(code, text, what, config.ClientSecret);
        }

        if (!response.IsSuccess)
        {
            var kind = (int)response.StatusCode >= 500 || (int)response.StatusCode == 429 ? ConnectorErrorKind.UpstreamUnavailable : ConnectorErrorKind.Misconfigured;
            throw new ConnectorException(kind, $"QQ's {what} answered HTTP {(int)response.StatusCode}.");
        }

        return json ?? throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, $"QQ's {what} answered a body that is neither JSON, JSONP nor a form.");
    }
}

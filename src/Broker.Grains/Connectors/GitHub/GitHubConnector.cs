using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.GitHub;

/// <summary>
/// The <c>github</c> connection type: a GitHub OAuth app or GitHub App (PROVIDERS.md §5). Quirks
/// handled: the token endpoint answers JSON only when asked (Accept: application/json) and reports
/// errors with HTTP 200 (quirk 1); the API wants a User-Agent on every call (quirk 2); the granted
/// scope comes back comma-separated (quirk 3); the profile's e-mail is null when private, so the
/// primary verified address is read from <c>/user/emails</c>. Two token modes: classic tokens
/// have no <c>expires_in</c> and no refresh token (the session keeps them and arms no refresh);
/// expiring tokens rotate their refresh token at every refresh.
/// </summary>
/// <remarks>
/// <c>baseUrl</c> points at GitHub Enterprise Server (<c>{baseUrl}/login/oauth/*</c>, API at
/// <c>{baseUrl}/api/v3/</c>); <c>apiBaseUrl</c> overrides the API root. The client id and secret
/// always go in the form body (GD); <c>tokenEndpointAuthMethod</c> is ignored.
/// </remarks>
public sealed class GitHubConnector : IRefreshConnector, IRevokeConnector, IApiConnector
{
    /// <summary>The real login host.</summary>
    public const string DefaultBaseUrl = "https://github.com";

    /// <summary>The real API root.</summary>
    public const string DefaultApiBaseUrl = "https://api.github.com/";

    private const string DefaultScope = "read:user user:email";
    private readonly ConnectionConfig config;
    private readonly ConnectorContext context;
    private readonly TokenEndpointClient tokens;
    private readonly string authorizeEndpoint;
    private readonly string tokenEndpoint;
    private readonly string userEndpoint;
    private readonly string userAgent;

    /// <summary>Creates the connector for one connection.</summary>
    public GitHubConnector(ConnectionConfig config, ConnectorContext context)
    {
        this.config = config;
        this.context = context;
        authorizeEndpoint = ProviderUrls.Resolve(config.Endpoints.Authorize, config.BaseUrl, DefaultBaseUrl, "login/oauth/authorize");
        tokenEndpoint = ProviderUrls.Resolve(config.Endpoints.Token, config.BaseUrl, DefaultBaseUrl, "login/oauth/access_token");
        ApiBaseUrl = ProviderUrls.AsBase(config.ApiBaseUrl ?? (config.BaseUrl is null ? DefaultApiBaseUrl : ProviderUrls.Join(config.BaseUrl, "api/v3/")));
        userEndpoint = config.Endpoints.Userinfo ?? new Uri(ApiBaseUrl, "user").AbsoluteUri;
        userAgent = config.Option("userAgent") ?? "Broker";
        tokens = new TokenEndpointClient(config with { TokenEndpointAuthMethod = TokenEndpointAuthMethods.ClientSecretPost }, context.Http, context.Clock);
    }

    /// <inheritdoc />
    public Uri? ApiBaseUrl { get; }

    /// <inheritdoc />
    public ValueTask<AuthorizeRedirect> BuildAuthorizeRequestAsync(AuthorizeInput input, CancellationToken cancellationToken)
    {
        // PKCE: optional, S256 only, since the 2025-07-14 changelog (PROVIDERS.md §5).
        var scope = config.Scopes.Count == 0 ? DefaultScope : string.Join(' ', config.Scopes);
        return ValueTask.FromResult(new AuthorizeRedirect(AuthorizeUrl.ForCodeFlow(config, authorizeEndpoint, input, scope, sendNonce: false)));
    }

    /// <inheritdoc />
    public async Task<LoginResult> CompleteAsync(CallbackInput callback, PendingLoginData login, CancellationToken cancellationToken)
    {
        var code = callback.RequireCode();
        var upstream = Normalise(await GitHubErrors.MapAsync(() => tokens.ExchangeCodeAsync(tokenEndpoint, code, login.RedirectUri, login.CodeVerifier, cancellationToken)));
        var user = await GetJsonAsync(userEndpoint, upstream, "user API", cancellationToken) as JsonObject
            ?? throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, "GitHub's /user answer is not a JSON object.");
        // The numeric id is stable; login can be renamed (AC-GH).
        var subject = OAuth2Responses.GetString(user, "id");
        if (string.IsNullOrEmpty(subject))
        {
            throw new ConnectorException(ConnectorErrorKind.InvalidCallback, "GitHub's /user answer has no id.");
        }

        var email = OAuth2Responses.GetString(user, "email") ?? await PrimaryEmailAsync(upstream, cancellationToken);
        return new LoginResult(upstream, new UpstreamProfile(
            subject,
            OAuth2Responses.GetString(user, "name") ?? OAuth2Responses.GetString(user, "login"),
            email,
            OAuth2Responses.GetString(user, "avatar_url"),
            user));
    }

    /// <summary>
    /// Refreshes an expiring token (GD "Refreshing user access tokens"): both tokens rotate and the
    /// old pair stops working. A classic token has no refresh token: that is InvalidGrant, and the
    /// caller should never ask, since its <see cref="UpstreamTokens.ExpiresAt"/> is null.
    /// </summary>
    public async Task<UpstreamTokens> RefreshAsync(UpstreamTokens current, CancellationToken cancellationToken) =>
        Normalise(await GitHubErrors.MapAsync(() => tokens.RefreshAsync(tokenEndpoint, current, cancellationToken)));

    /// <summary>
    /// Deletes the token: <c>DELETE /applications/{client_id}/token</c> with Basic client
    /// credentials and <c>{"access_token"}</c> (GitHub REST "OAuth authorizations" API). 404 means
    /// it was already gone, which is what revocation wants (as RFC 7009 §2.2 treats it).
    /// </summary>
    public async Task<bool> RevokeAsync(UpstreamTokens current, CancellationToken cancellationToken)
    {
        var url = new Uri(ApiBaseUrl!, $"applications/{Uri.EscapeDataString(config.ClientId ?? "")}/token").AbsoluteUri;
        var body = new JsonObject { ["access_token"] = current.AccessToken }.ToJsonString();
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{config.ClientId}:{config.ClientSecret}"));
        var response = await context.Http.SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Delete, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                AddApiHeaders(request);
                return request;
            },
            RetrySafety.Idempotent,
            "token revocation API",
            cancellationToken);
        return response.IsSuccess || response.StatusCode == HttpStatusCode.NotFound
            ? true
            : throw OAuth2Responses.ToException(response, "token revocation API");
    }

    /// <inheritdoc />
    public void AuthorizeApiRequest(HttpRequestMessage request, UpstreamTokens tokens, UpstreamProfile profile)
    {
        BearerApi.Authorize(request, tokens);
        AddApiHeaders(request);
    }

    /// <inheritdoc />
    public ApiFailure? ClassifyApiResponse(int status, ReadOnlySpan<byte> body) => BearerApi.Classify(status);

    private void AddApiHeaders(HttpRequestMessage request)
    {
        // Requests without a User-Agent are rejected (docs.github.com, getting started with the REST API).
        request.Headers.UserAgent.Clear();
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        if (request.Headers.Accept.Count == 0)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        }
    }

    // GitHub returns the granted scope comma-separated; the broker's scope strings are space-separated (docs/design.md §6).
    private static UpstreamTokens Normalise(UpstreamTokens tokens) =>
        tokens with { Scope = tokens.Scope?.Replace(',', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries) is { } parts ? string.Join(' ', parts) : null };

    private async Task<string?> PrimaryEmailAsync(UpstreamTokens tokens, CancellationToken cancellationToken)
    {
        JsonNode? emails;
        try
        {
            emails = await GetJsonAsync(new Uri(ApiBaseUrl!, "user/emails").AbsoluteUri, tokens, "emails API", cancellationToken);
        }
        catch (ConnectorException e) when (e.Kind == ConnectorErrorKind.Misconfigured)
        {
            return null; // no user:email scope: the login works without an address
        }

        // Only an address that is both primary and verified is trusted (AC-GH picks the primary).
        return (emails as JsonArray)?.OfType<JsonObject>()
            .Where(e => e["primary"]?.GetValueKind() == JsonValueKind.True && e["verified"]?.GetValueKind() == JsonValueKind.True)
            .Select(e => OAuth2Responses.GetString(e, "email"))
            .FirstOrDefault(e => !string.IsNullOrEmpty(e));
    }

    private async Task<JsonNode?> GetJsonAsync(string url, UpstreamTokens tokens, string what, CancellationToken cancellationToken)
    {
        var response = await context.Http.SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, url);
                BearerApi.Authorize(request, tokens);
                AddApiHeaders(request);
                return request;
            },
            RetrySafety.Idempotent,
            what,
            cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
        {
            throw new ConnectorException(ConnectorErrorKind.Misconfigured, $"GitHub's {what} refused the new access token (HTTP {(int)response.StatusCode}).");
        }

        if (!response.IsSuccess)
        {
            throw OAuth2Responses.ToException(response, what);
        }

        try
        {
            return JsonNode.Parse(response.Body);
        }
        catch (JsonException)
        {
            throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, $"GitHub's {what} answered no JSON.");
        }
    }
}

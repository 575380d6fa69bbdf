using System.Net.Http.Headers;
using System.Text;
using Broker.Grains.Connectors.Http;

namespace Broker.Grains.Connectors.OAuth2;

/// <summary>
/// The OAuth 2.0 calls every connector shares: code exchange, refresh, revocation and
/// introspection, with the connection's client authentication. A helper that connectors
/// hold, not a base class they inherit.
/// </summary>
public sealed class TokenEndpointClient
{
    private readonly ConnectionConfig config;
    private readonly UpstreamHttp http;
    private readonly TimeProvider clock;
    private readonly TokenRequestStyle style;

    /// <summary>Creates the helper for one connection.</summary>
    /// <param name="config">The connection; its <see cref="ConnectionConfig.TokenEndpointAuthMethod"/> picks the client authentication.</param>
    /// <param name="http">The resilient sender.</param>
    /// <param name="clock">The clock for <c>expires_in</c>.</param>
    /// <param name="style">Provider deviations from RFC 6749's client authentication; null for none.</param>
    public TokenEndpointClient(ConnectionConfig config, UpstreamHttp http, TimeProvider clock, TokenRequestStyle? style = null)
    {
        this.config = config;
        this.http = http;
        this.clock = clock;
        this.style = style ?? TokenRequestStyle.Standard;
    }

    /// <summary>Exchanges an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5).</summary>
    public async Task<UpstreamTokens> ExchangeCodeAsync(
        string tokenEndpoint, string code, string redirectUri, string? codeVerifier, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"),
            new("code", code),
            // Must be identical to the authorize request's (RFC 6749 §4.1.3).
            new("redirect_uri", redirectUri),
        };
        if (codeVerifier is not null)
        {
            form.Add(new("code_verifier", codeVerifier));
        }

        var response = await PostAsync(tokenEndpoint, form, RetrySafety.NotIdempotent, "token endpoint", cancellationToken);
        return response.IsSuccess
            ? OAuth2Responses.ParseTokens(response, clock.GetUtcNow(), "token endpoint")
            : throw OAuth2Responses.ToException(response, "token endpoint");
    }

    /// <summary>
    /// Refreshes (RFC 6749 §6). A provider that does not rotate refresh tokens omits one from
    /// the answer, so the old one is kept; the id_token is kept too, for logout's id_token_hint.
    /// </summary>
    public async Task<UpstreamTokens> RefreshAsync(string tokenEndpoint, UpstreamTokens current, CancellationToken cancellationToken)
    {
        if (current.RefreshToken is not { Length: > 0 } refreshToken)
        {
            throw new ConnectorException(ConnectorErrorKind.InvalidGrant, "The session has no refresh token.");
        }

        var form = new List<KeyValuePair<string, string>> { new("grant_type", "refresh_token"), new("refresh_token", refreshToken) };
        var response = await PostAsync(tokenEndpoint, form, RetrySafety.NotIdempotent, "token endpoint (refresh)", cancellationToken);
        if (!response.IsSuccess)
        {
            throw OAuth2Responses.ToException(response, "token endpoint (refresh)");
        }

        var fresh = OAuth2Responses.ParseTokens(response, clock.GetUtcNow(), "token endpoint (refresh)");
        return fresh with
        {
            RefreshToken = fresh.RefreshToken ?? current.RefreshToken,
            IdToken = fresh.IdToken ?? current.IdToken,
            // RFC 6749 §5.1: scope is omitted when identical to the one requested.
            Scope = fresh.Scope ?? current.Scope,
        };
    }

    /// <summary>
    /// Revokes one token (RFC 7009 §2.1). 200 means revoked or already invalid (§2.2); an
    /// <c>unsupported_token_type</c> answer is not an error worth failing a logout for.
    /// </summary>
    public async Task RevokeAsync(string revocationEndpoint, string token, string tokenTypeHint, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>> { new("token", token), new("token_type_hint", tokenTypeHint) };
        var response = await PostAsync(revocationEndpoint, form, RetrySafety.Idempotent, "revocation endpoint", cancellationToken);
        if (response.IsSuccess)
        {
            return;
        }

        var error = OAuth2Responses.ToException(response, "revocation endpoint");
        if (error.UpstreamError != "unsupported_token_type")
        {
            throw error;
        }
    }

    /// <summary>Introspects a token (RFC 7662 §2.1); unknown tokens answer <c>active: false</c> (§2.2).</summary>
    public async Task<TokenIntrospection> IntrospectAsync(
        string introspectionEndpoint, string token, string? tokenTypeHint, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>> { new("token", token) };
        if (tokenTypeHint is not null)
        {
            form.Add(new("token_type_hint", tokenTypeHint));
        }

        var response = await PostAsync(introspectionEndpoint, form, RetrySafety.Idempotent, "introspection endpoint", cancellationToken);
        if (!response.IsSuccess)
        {
            throw OAuth2Responses.ToException(response, "introspection endpoint");
        }

        var json = OAuth2Responses.ParseObject(response.Body)
            ?? throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, "The provider's introspection endpoint answered no JSON object.");
        return new TokenIntrospection(
            json["active"]?.GetValueKind() == System.Text.Json.JsonValueKind.True,
            OAuth2Responses.GetString(json, "sub"),
            OAuth2Responses.GetString(json, "scope"),
            OAuth2Responses.GetTime(json, "exp"),
            json);
    }

    /// <summary>POSTs a form with the connection's client authentication (RFC 6749 §2.3.1, §3.2.1).</summary>
    private Task<UpstreamResponse> PostAsync(
        string endpoint, List<KeyValuePair<string, string>> form, RetrySafety safety, string what, CancellationToken cancellationToken)
    {
        var clientId = config.ClientId ?? "";
        AuthenticationHeaderValue? authorization = null;
        switch (config.TokenEndpointAuthMethod)
        {
            case TokenEndpointAuthMethods.ClientSecretBasic:
                // RFC 6749 §2.3.1: the id and secret are form-urlencoded first, then joined and
                // base64-encoded (RFC 7617); servers decode them again, so ':' or '%' in a secret survive.
                var pair = style.RawBasicCredentials
                    ? $"{clientId}:{config.ClientSecret}"
                    : $"{FormEncode(clientId)}:{FormEncode(config.ClientSecret ?? "")}";
                authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
                if (style.ClientIdInBodyWithBasic)
                {
                    form.Add(new("client_id", clientId));
                }

                break;
            case TokenEndpointAuthMethods.ClientSecretPost:
                form.Add(new("client_id", clientId));
                form.Add(new("client_secret", config.ClientSecret ?? ""));
                break;
            default:
                // A public client identifies itself in the body (RFC 6749 §3.2.1).
                form.Add(new("client_id", clientId));
                break;
        }

        return http.SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
                request.Headers.Authorization = authorization;
                // GitHub answers a form unless asked for JSON (PROVIDERS.md §5).
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                return request;
            },
            safety,
            what,
            cancellationToken);
    }

    /// <summary>application/x-www-form-urlencoded encoding of one value, as <see cref="FormUrlEncodedContent"/> does it.</summary>
    public static string FormEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);
}

/// <summary>Where a provider's token endpoint departs from RFC 6749 §2.3.1 client authentication.</summary>
public sealed record TokenRequestStyle
{
    /// <summary>RFC 6749 as written.</summary>
    public static TokenRequestStyle Standard { get; } = new();

    /// <summary>
    /// Basic credentials are <c>base64(id:secret)</c> without form-urlencoding them first, as the
    /// provider's own SDKs send them (ShangCloud, Authing; PROVIDERS.md §2, §4). Identical to RFC
    /// 6749 for ids and secrets of letters and digits; a server that does not decode would refuse
    /// an encoded secret with other characters.
    /// </summary>
    public bool RawBasicCredentials { get; init; }

    /// <summary>Also send <c>client_id</c> in the body with Basic (RFC 6749 §3.2.1 allows it; ShangCloud's refresh sends it).</summary>
    public bool ClientIdInBodyWithBasic { get; init; }
}

using System.Net.Http.Headers;

namespace Broker.Grains.Connectors.Api;

/// <summary>The API conventions of providers that take an RFC 6750 bearer token and answer with HTTP status codes.</summary>
public static class BearerApi
{
    /// <summary>Sets <c>Authorization: {token_type} {access_token}</c>, Bearer unless the provider named another type (RFC 6750 §2.1).</summary>
    public static void Authorize(HttpRequestMessage request, UpstreamTokens tokens)
    {
        // RFC 6749 §7.1: the client must understand the token type; "bearer" in any case is Bearer.
        var scheme = string.IsNullOrEmpty(tokens.TokenType) || tokens.TokenType.Equals("bearer", StringComparison.OrdinalIgnoreCase)
            ? "Bearer"
            : tokens.TokenType;
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, tokens.AccessToken);
    }

    /// <summary>
    /// 2xx is success; 401 means the token was refused (RFC 6750 §3.1 <c>invalid_token</c>), so a
    /// refresh may help; anything else is a failure a retry will not fix.
    /// </summary>
    public static ApiFailure? Classify(int status) => status switch
    {
        >= 200 and <= 299 => null,
        401 => new ApiFailure(ApiFailureKind.TokenRejected, "401", "The provider refused the access token (HTTP 401)."),
        _ => new ApiFailure(ApiFailureKind.Failed, status.ToString(System.Globalization.CultureInfo.InvariantCulture), $"The provider answered HTTP {status}."),
    };

    /// <summary>The connection's <c>apiBaseUrl</c> as a base for <see cref="ApiTarget.Resolve"/>, or null when it has none.</summary>
    public static Uri? BaseFromConfig(ConnectionConfig config) =>
        config.ApiBaseUrl is { } value && Uri.TryCreate(value, UriKind.Absolute, out var uri) ? uri : null;
}

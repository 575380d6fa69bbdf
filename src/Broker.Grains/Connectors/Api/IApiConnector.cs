namespace Broker.Grains.Connectors.Api;

/// <summary>
/// A connector whose provider has a REST API the upstream proxy
/// (<c>POST /api/tenants/{tenant}/sessions/{session}/upstream</c>, docs/design.md §3) may call with the
/// session's access token. The proxy resolves the target with <see cref="ApiTarget.Resolve"/>
/// against <see cref="ApiBaseUrl"/>, lets the connector put the token on the request the
/// provider's way, sends it, and asks <see cref="ClassifyApiResponse"/> whether the answer means
/// "the token is no longer good: refresh once and retry".
/// </summary>
public interface IApiConnector : IConnector
{
    /// <summary>
    /// Root of the provider's API: the connection's <c>apiBaseUrl</c>, else the provider's default.
    /// Null when this connection has no API to proxy (an <c>oidc</c>/<c>oauth2</c> connection
    /// without <c>apiBaseUrl</c>): the proxy must answer 404 then.
    /// </summary>
    Uri? ApiBaseUrl { get; }

    /// <summary>
    /// Adds the session's credentials to a request built for a URL below <see cref="ApiBaseUrl"/>:
    /// an <c>Authorization: Bearer</c> header (RFC 6750 §2.1) for most providers, query parameters
    /// for QQ. QQ needs the user's openid, which is the <paramref name="profile"/>'s subject.
    /// </summary>
    /// <param name="request">The request; its URL must come from <see cref="ApiTarget.Resolve"/>.</param>
    /// <param name="tokens">The session's current tokens.</param>
    /// <param name="profile">The profile the session stored at login.</param>
    void AuthorizeApiRequest(HttpRequestMessage request, UpstreamTokens tokens, UpstreamProfile profile);

    /// <summary>
    /// Reads a provider answer: null when the call succeeded, else what went wrong. Several
    /// providers report failures with HTTP 200 (jAccount's <c>errno</c>, QQ's <c>ret</c>), so the
    /// body is looked at as well as the status.
    /// </summary>
    /// <param name="status">The HTTP status code.</param>
    /// <param name="body">The response body (may be cut short by the caller; 64 KiB is plenty).</param>
    ApiFailure? ClassifyApiResponse(int status, ReadOnlySpan<byte> body);
}

/// <summary>How an API call failed.</summary>
public enum ApiFailureKind
{
    /// <summary>The provider refused the access token (expired, revoked, invalid): refresh the session and retry once.</summary>
    TokenRejected,

    /// <summary>Any other failure (bad parameters, missing scope, not found, provider error): retrying will not help.</summary>
    Failed,
}

/// <summary>A failed API call, as <see cref="IApiConnector.ClassifyApiResponse"/> sees it.</summary>
/// <param name="Kind">What the proxy should do.</param>
/// <param name="Code">The provider's own code (jAccount <c>errno</c>, QQ <c>ret</c>, or the HTTP status), when known.</param>
/// <param name="Message">A short explanation without tokens or secrets.</param>
public sealed record ApiFailure(ApiFailureKind Kind, string? Code, string Message)
{
    /// <summary>Whether the proxy should refresh the session's tokens and send the request once more.</summary>
    public bool RefreshAndRetry => Kind == ApiFailureKind.TokenRejected;
}

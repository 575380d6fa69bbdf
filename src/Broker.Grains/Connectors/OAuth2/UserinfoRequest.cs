using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Http;

namespace Broker.Grains.Connectors.OAuth2;

/// <summary>Reads a profile document with the access token (OIDC Core §5.3.1, or a provider's own user API).</summary>
public static class UserinfoRequest
{
    /// <summary>GETs the endpoint with <c>Authorization: Bearer</c> (RFC 6750 §2.1) and returns its JSON object.</summary>
    public static Task<JsonObject> GetAsync(UpstreamHttp http, string endpoint, UpstreamTokens tokens, CancellationToken cancellationToken) =>
        FetchObjectAsync(http, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
            return request;
        }, "The provider's userinfo endpoint", hint: null, cancellationToken);

    /// <summary>
    /// Sends a profile request built by the provider (its method, body and token placement) right
    /// after a login or refresh, and returns the JSON object it answers.
    /// </summary>
    /// <param name="what">Names the endpoint in errors, e.g. "Authing's userinfo endpoint".</param>
    /// <param name="hint">Appended to a refusal: what in the connection to check.</param>
    public static async Task<JsonObject> FetchObjectAsync(UpstreamHttp http, Func<HttpRequestMessage> build, string what, string? hint, CancellationToken cancellationToken)
    {
        var response = await http.SendAsync(
            () =>
            {
                var request = build();
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                return request;
            },
            RetrySafety.Idempotent,
            what,
            cancellationToken);

        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            // The token was issued a moment ago: a refusal means it does not carry the scope
            // the profile needs, which the connection's configuration decides.
            throw new ConnectorException(ConnectorErrorKind.Misconfigured, $"{what} refused the access token (HTTP {(int)response.StatusCode}).{hint}");
        }

        if (!response.IsSuccess)
        {
            throw OAuth2Responses.ToException(response, what);
        }

        // Signed or encrypted userinfo (application/jwt, OIDC Core §5.3.2) is not requested by the broker.
        return OAuth2Responses.ParseObject(response.Body)
            ?? throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, $"{what} answered no JSON object.");
    }
}

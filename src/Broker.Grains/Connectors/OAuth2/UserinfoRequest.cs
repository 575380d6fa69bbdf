using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Http;

namespace Broker.Grains.Connectors.OAuth2;

/// <summary>Reads a profile document with the access token (OIDC Core §5.3.1, or a provider's own user API).</summary>
public static class UserinfoRequest
{
    /// <summary>GETs the endpoint with <c>Authorization: Bearer</c> (RFC 6750 §2.1) and returns its JSON object.</summary>
    public static async Task<JsonObject> GetAsync(UpstreamHttp http, string endpoint, UpstreamTokens tokens, CancellationToken cancellationToken)
    {
        var response = await http.SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                return request;
            },
            RetrySafety.Idempotent,
            "userinfo endpoint",
            cancellationToken);

        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            // The token was issued a moment ago: a refusal means it does not carry the scope
            // the profile needs, which the connection's configuration decides.
            throw new ConnectorException(ConnectorErrorKind.Misconfigured, $"The provider's userinfo endpoint refused the access token (HTTP {(int)response.StatusCode}).");
        }

        if (!response.IsSuccess)
        {
            throw OAuth2Responses.ToException(response, "userinfo endpoint");
        }

        // Signed or encrypted userinfo (application/jwt, OIDC Core §5.3.2) is not requested by the broker.
        return OAuth2Responses.ParseObject(response.Body)
            ?? throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, "The provider's userinfo endpoint answered no JSON object.");
    }
}

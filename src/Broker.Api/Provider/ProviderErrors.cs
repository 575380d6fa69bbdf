using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Broker.Api.Provider;

/// <summary>The OAuth 2.0 error answers of the provider's back-channel endpoints (RFC 6749 §5.2): JSON
/// <c>{error, error_description}</c>, never cached. Not problem+json: OAuth clients parse these members.</summary>
public static class ProviderErrors
{
    public static ContentHttpResult Json(HttpContext http, int status, JsonObject body)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
        return TypedResults.Content(body.ToJsonString(), "application/json", statusCode: status);
    }

    public static ContentHttpResult Error(HttpContext http, string error, string description, int status = StatusCodes.Status400BadRequest) =>
        Json(http, status, new JsonObject { ["error"] = error, ["error_description"] = description });

    /// <summary>401 <c>invalid_client</c>; with the Basic challenge when the client tried Basic (RFC 6749 §5.2).</summary>
    public static ContentHttpResult InvalidClient(HttpContext http, string description, bool triedBasic)
    {
        if (triedBasic)
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"broker\"";
        return Error(http, "invalid_client", description, StatusCodes.Status401Unauthorized);
    }
}

using System.Text.Json.Nodes;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.Oidc;

/// <summary>The members of a discovery document the broker uses (OIDC Discovery §3, RFC 8414 §2, RP-Initiated Logout §2.1).</summary>
public sealed record OidcMetadata(
    string Issuer,
    string? AuthorizationEndpoint,
    string? TokenEndpoint,
    string? UserinfoEndpoint,
    string? JwksUri,
    string? RevocationEndpoint,
    string? IntrospectionEndpoint,
    string? EndSessionEndpoint,
    IReadOnlyList<string> IdTokenSigningAlgValuesSupported)
{
    /// <summary>Reads a discovery document; null when it has no <c>issuer</c>.</summary>
    public static OidcMetadata? Parse(JsonObject json)
    {
        if (OAuth2Responses.GetString(json, "issuer") is not { } issuer)
        {
            return null;
        }

        var algs = (json["id_token_signing_alg_values_supported"] as JsonArray ?? [])
            .OfType<JsonValue>()
            .Select(v => v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : null)
            .OfType<string>()
            .ToArray();
        return new OidcMetadata(
            issuer,
            OAuth2Responses.GetString(json, "authorization_endpoint"),
            OAuth2Responses.GetString(json, "token_endpoint"),
            OAuth2Responses.GetString(json, "userinfo_endpoint"),
            OAuth2Responses.GetString(json, "jwks_uri"),
            OAuth2Responses.GetString(json, "revocation_endpoint"),
            OAuth2Responses.GetString(json, "introspection_endpoint"),
            OAuth2Responses.GetString(json, "end_session_endpoint"),
            algs);
    }
}

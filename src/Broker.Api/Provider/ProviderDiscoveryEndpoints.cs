using System.Text.Json.Nodes;
using Broker.Grains;
using Broker.Grains.Clients;
using Broker.Grains.Provider;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api.Provider;

/// <summary>The tenant's OpenID Provider metadata (OpenID Connect Discovery 1.0) and its public keys (the JWKS).</summary>
public static class ProviderDiscoveryEndpoints
{
    public static IEndpointRouteBuilder MapProviderDiscovery(this IEndpointRouteBuilder group)
    {
        group.MapGet("/.well-known/openid-configuration", DiscoveryAsync).WithName("ProviderDiscovery");
        group.MapGet("/jwks", JwksAsync).WithName("ProviderJwks");
        return group;
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> DiscoveryAsync(string tenant, IGrainFactory grains, BrokerGrainOptions options, HttpContext http)
    {
        if (!Ids.IsTenantOrConnection(tenant) || await grains.Tenant(tenant).GetAsync() is null)
            return Problems.NotFound("tenant");
        var issuer = options.Issuer(tenant);
        var document = new JsonObject
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = issuer + "/authorize",
            ["token_endpoint"] = issuer + "/token",
            ["userinfo_endpoint"] = issuer + "/userinfo",
            ["jwks_uri"] = issuer + "/jwks",
            ["revocation_endpoint"] = issuer + "/revoke",
            ["introspection_endpoint"] = issuer + "/introspect",
            ["end_session_endpoint"] = issuer + "/end_session",
            ["response_types_supported"] = new JsonArray("code"),
            ["response_modes_supported"] = new JsonArray("query"),
            ["grant_types_supported"] = new JsonArray("authorization_code", "refresh_token"),
            ["code_challenge_methods_supported"] = new JsonArray("S256"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray([.. AppClientAuthMethods.All.Select(m => (JsonNode)m)]),
            ["revocation_endpoint_auth_methods_supported"] = new JsonArray([.. AppClientAuthMethods.All.Select(m => (JsonNode)m)]),
            ["introspection_endpoint_auth_methods_supported"] = new JsonArray([.. AppClientAuthMethods.All.Select(m => (JsonNode)m)]),
            ["scopes_supported"] = new JsonArray([.. OidcScopes.Supported.Select(s => (JsonNode)s)]),
            ["subject_types_supported"] = new JsonArray("public"),
            ["claims_supported"] = new JsonArray("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "at_hash", "name", "email", "picture", "connection"),
            ["prompt_values_supported"] = new JsonArray("login", "consent", "select_account"),
            ["authorization_response_iss_parameter_supported"] = true,
        };
        return Json(http, document, maxAgeSeconds: 300);
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> JwksAsync(string tenant, IGrainFactory grains, HttpContext http)
    {
        if (!Ids.IsTenantOrConnection(tenant) || await grains.Tenant(tenant).GetSigningKeysAsync() is not { } keys)
            return Problems.NotFound("tenant");
        var jwks = new JsonObject
        {
            ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)new JsonObject
            {
                ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = k.Kid, ["n"] = k.Modulus, ["e"] = k.Exponent,
            })]),
        };
        return Json(http, jwks, maxAgeSeconds: 300);
    }

    private static ContentHttpResult Json(HttpContext http, JsonObject body, int maxAgeSeconds)
    {
        http.Response.Headers.CacheControl = $"public, max-age={maxAgeSeconds}";
        return TypedResults.Content(body.ToJsonString(), "application/json");
    }
}

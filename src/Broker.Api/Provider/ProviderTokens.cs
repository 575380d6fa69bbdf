using Broker.Grains;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Broker.Api.Provider;

/// <summary>Reads the JWTs the tenant's provider signed (access tokens and id_tokens): signature by one of the
/// tenant's published keys, issuer, type and, when asked, lifetime.</summary>
public static class ProviderTokens
{
    private static readonly JsonWebTokenHandler Handler = new();

    /// <param name="type">The JOSE <c>typ</c> the token must carry: <c>at+jwt</c> or <c>JWT</c>.</param>
    /// <param name="checkLifetime">False for an id_token hint, which may have expired (OIDC RP-Initiated Logout §2).</param>
    public static async Task<JsonWebToken?> ReadAsync(string? token, string tenant, string type, bool checkLifetime, IGrainFactory grains, BrokerGrainOptions options)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 8192 || !Handler.CanReadToken(token))
            return null;
        if (await grains.Tenant(tenant).GetSigningKeysAsync() is not { } keys)
            return null;
        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = options.Issuer(tenant),
            ValidateAudience = false, // each caller checks the audience it needs
            ValidateLifetime = checkLifetime,
            ClockSkew = TimeSpan.FromSeconds(30),
            ValidTypes = [type],
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            IssuerSigningKeys = keys.Select(k => new JsonWebKey { Kty = "RSA", Kid = k.Kid, N = k.Modulus, E = k.Exponent }),
        });
        return result.IsValid ? (JsonWebToken)result.SecurityToken : null;
    }
}

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Broker.Load.Upstream;

/// <summary>RS256 id_tokens (OIDC Core §2) signed with a key made at start, and the JWKS that verifies them.</summary>
public sealed class IdTokens
{
    private readonly RSA _key = RSA.Create(2048);
    private readonly string _kid = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
    private readonly string _header;

    public IdTokens()
    {
        _header = SealedTokens.Base64Url(JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["alg"] = "RS256", ["kid"] = _kid, ["typ"] = "JWT" }));
        var p = _key.ExportParameters(includePrivateParameters: false);
        Jwks = new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = _kid,
                ["n"] = SealedTokens.Base64Url(p.Modulus), ["e"] = SealedTokens.Base64Url(p.Exponent),
            }),
        }.ToJsonString();
    }

    public string Jwks { get; }

    public string Issue(string issuer, string clientId, string subject, string? nonce)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = issuer, ["sub"] = subject, ["aud"] = clientId, ["iat"] = now, ["exp"] = now + 3600,
            ["name"] = "User " + subject, ["email"] = subject + "@example.test", ["email_verified"] = true,
        };
        if (nonce is not null)
            claims["nonce"] = nonce;
        var input = _header + "." + SealedTokens.Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = _key.SignData(System.Text.Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return input + "." + SealedTokens.Base64Url(signature);
    }
}

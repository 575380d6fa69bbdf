using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors;

namespace Broker.Testing.Upstreams;

/// <summary>
/// The signing keys of a fake provider: an RSA key and an EC P-256 key, published as a JWK Set.
/// <see cref="RotateRsa"/> replaces the RSA key with a new kid, to test key rollover.
/// </summary>
public sealed class FakeSigningKeys : IDisposable
{
    private int generation = 1;

    /// <summary>The current RSA key (RS256 / PS256).</summary>
    public RSA Rsa { get; private set; } = RSA.Create(2048);

    /// <summary>The kid of <see cref="Rsa"/>.</summary>
    public string RsaKeyId { get; private set; } = "rsa-1";

    /// <summary>The EC P-256 key (ES256).</summary>
    public ECDsa Ec { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The kid of <see cref="Ec"/>.</summary>
    public string EcKeyId => "ec-1";

    /// <summary>Replaces the RSA key; the old one is no longer published.</summary>
    public void RotateRsa()
    {
        Rsa.Dispose();
        Rsa = RSA.Create(2048);
        RsaKeyId = $"rsa-{++generation}";
    }

    /// <summary>The JWK Set document (RFC 7517 §5) of the published public keys.</summary>
    public JsonObject ToJwks()
    {
        var rsa = Rsa.ExportParameters(false);
        var ec = Ec.ExportParameters(false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(
                new JsonObject { ["kty"] = "RSA", ["use"] = "sig", ["kid"] = RsaKeyId, ["n"] = Base64Url.Encode(rsa.Modulus), ["e"] = Base64Url.Encode(rsa.Exponent) },
                new JsonObject { ["kty"] = "EC", ["use"] = "sig", ["kid"] = EcKeyId, ["crv"] = "P-256", ["x"] = Base64Url.Encode(ec.Q.X), ["y"] = Base64Url.Encode(ec.Q.Y) }),
        };
    }

    /// <summary>Signs claims with the key that fits <paramref name="alg"/> (RS256, PS256 or ES256); <paramref name="kid"/> defaults to that key's.</summary>
    public string Sign(JsonObject claims, string alg = "RS256", string? kid = null)
    {
        var header = new JsonObject { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = kid ?? (alg.StartsWith("ES", StringComparison.Ordinal) ? EcKeyId : RsaKeyId) };
        return FakeJwt.Create(header, claims, data => alg switch
        {
            "RS256" => Rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            "PS256" => Rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            "ES256" => Ec.SignData(data, HashAlgorithmName.SHA256),
            _ => throw new ArgumentException($"The fake signs RS256, PS256 or ES256, not {alg}.", nameof(alg)),
        });
    }

    /// <summary>Disposes the keys.</summary>
    public void Dispose()
    {
        Rsa.Dispose();
        Ec.Dispose();
    }
}

/// <summary>Builds compact JWS values, including deliberately bad ones.</summary>
public static class FakeJwt
{
    /// <summary>Encodes header and claims and appends <paramref name="sign"/>'s signature over them.</summary>
    public static string Create(JsonObject header, JsonObject claims, Func<byte[], byte[]> sign)
    {
        var input = $"{Encode(header)}.{Encode(claims)}";
        return $"{input}.{Base64Url.Encode(sign(Encoding.ASCII.GetBytes(input)))}";
    }

    /// <summary>An <c>alg: none</c> token with an empty signature (RFC 7519 §6.1).</summary>
    public static string Unsecured(JsonObject claims) => Create(new JsonObject { ["alg"] = "none", ["typ"] = "JWT" }, claims, _ => []);

    /// <summary>An HS256 token keyed with arbitrary bytes (for key-confusion and client-secret tests).</summary>
    public static string Hs256(JsonObject claims, byte[] key, string? kid = null) =>
        Create(new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = kid }, claims, data => HMACSHA256.HashData(key, data));

    /// <summary>The claims of a token, without checking anything.</summary>
    public static JsonObject ReadClaims(string jwt) =>
        (JsonObject)JsonNode.Parse(Base64Url.TryDecode(jwt.Split('.')[1])!)!;

    private static string Encode(JsonObject json) => Base64Url.Encode(Encoding.UTF8.GetBytes(json.ToJsonString()));
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.Oidc;

/// <summary>
/// A public signing key from a JWK Set (RFC 7517), reduced to what verification needs. Only
/// RSA and EC keys are read: a JWKS never carries the symmetric key of an HS* token.
/// </summary>
public sealed class JsonWebKey
{
    private readonly RSAParameters? rsa;
    private readonly ECParameters? ec;

    // Importing a key costs more than a verification (OpenSSL decodes it each time), and the same
    // few keys verify every login's id_token: imported keys are kept for reuse, one per concurrent
    // verification, since an instance is not documented to be safe for concurrent use.
    private readonly ConcurrentBag<AsymmetricAlgorithm> imported = [];

    private JsonWebKey(string? keyId, string? algorithm, RSAParameters? rsa, ECParameters? ec)
    {
        KeyId = keyId;
        Algorithm = algorithm;
        this.rsa = rsa;
        this.ec = ec;
    }

    /// <summary>The key's <c>kid</c>.</summary>
    public string? KeyId { get; }

    /// <summary>The key's <c>alg</c>, when it pins one (RFC 7517 §4.4).</summary>
    public string? Algorithm { get; }

    /// <summary>Reads the usable signing keys of a JWK Set document; others (encryption keys, unknown types) are skipped.</summary>
    public static IReadOnlyList<JsonWebKey> ParseSet(JsonObject document)
    {
        var keys = new List<JsonWebKey>();
        foreach (var node in document["keys"] as JsonArray ?? [])
        {
            if (node is JsonObject jwk && TryParse(jwk) is { } key)
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    /// <summary>Whether this key may verify a token signed with <paramref name="alg"/>: the key type and curve must fit the algorithm.</summary>
    public bool Fits(string alg)
    {
        if (Algorithm is not null && Algorithm != alg)
        {
            return false;
        }

        return alg switch
        {
            "RS256" or "RS384" or "RS512" or "PS256" or "PS384" or "PS512" => rsa is not null,
            "ES256" => ec?.Curve.Oid.FriendlyName == ECCurve.NamedCurves.nistP256.Oid.FriendlyName,
            "ES384" => ec?.Curve.Oid.FriendlyName == ECCurve.NamedCurves.nistP384.Oid.FriendlyName,
            "ES512" => ec?.Curve.Oid.FriendlyName == ECCurve.NamedCurves.nistP521.Oid.FriendlyName,
            _ => false,
        };
    }

    /// <summary>Verifies a signature (RFC 7518 §3.3–3.5). Call only after <see cref="Fits"/>.</summary>
    public bool Verify(string alg, byte[] data, byte[] signature)
    {
        var hash = alg[2..] switch
        {
            "256" => HashAlgorithmName.SHA256,
            "384" => HashAlgorithmName.SHA384,
            _ => HashAlgorithmName.SHA512,
        };
        if (!imported.TryTake(out var key))
        {
            key = rsa is { } rsaParameters ? RSA.Create(rsaParameters) : ECDsa.Create(ec!.Value);
        }

        try
        {
            return key switch
            {
                RSA rsaKey => rsaKey.VerifyData(data, signature, hash,
                    alg.StartsWith("PS", StringComparison.Ordinal) ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1),
                // JWS carries R||S (IEEE P1363), the .NET default for VerifyData (RFC 7518 §3.4).
                ECDsa ecKey => ecKey.VerifyData(data, signature, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
        finally
        {
            imported.Add(key);
        }
    }

    private static JsonWebKey? TryParse(JsonObject jwk)
    {
        var use = OAuth2Responses.GetString(jwk, "use");
        if (use is not null and not "sig")
        {
            return null;
        }

        var kid = OAuth2Responses.GetString(jwk, "kid");
        var alg = OAuth2Responses.GetString(jwk, "alg");
        switch (OAuth2Responses.GetString(jwk, "kty"))
        {
            case "RSA" when Bytes(jwk, "n") is { Length: >= 256 } n && Bytes(jwk, "e") is { Length: > 0 } e:
                // Keys under 2048 bits are refused (RFC 7518 §3.3).
                return new JsonWebKey(kid, alg, new RSAParameters { Modulus = TrimLeadingZero(n), Exponent = e }, null);
            case "EC" when Curve(OAuth2Responses.GetString(jwk, "crv")) is { } curve
                && Bytes(jwk, "x") is { } x && Bytes(jwk, "y") is { } y && x.Length == y.Length:
                var parameters = new ECParameters { Curve = curve, Q = new ECPoint { X = x, Y = y } };
                try
                {
                    // Rejects points that are not on the curve before the key is ever used.
                    parameters.Validate();
                    using var probe = ECDsa.Create(parameters);
                }
                catch (CryptographicException)
                {
                    return null;
                }

                return new JsonWebKey(kid, alg, null, parameters);
            default:
                return null;
        }
    }

    private static ECCurve? Curve(string? crv) => crv switch
    {
        "P-256" => ECCurve.NamedCurves.nistP256,
        "P-384" => ECCurve.NamedCurves.nistP384,
        "P-521" => ECCurve.NamedCurves.nistP521,
        _ => null,
    };

    private static byte[]? Bytes(JsonObject jwk, string name) =>
        OAuth2Responses.GetString(jwk, name) is { } text ? Base64Url.TryDecode(text) : null;

    private static byte[] TrimLeadingZero(byte[] n) => n.Length > 1 && n[0] == 0 ? n[1..] : n;
}

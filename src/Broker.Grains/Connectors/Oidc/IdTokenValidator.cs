using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.Oidc;

/// <summary>What an id_token must match.</summary>
/// <param name="Issuer">The configured issuer, compared exactly.</param>
/// <param name="ClientId">The connection's client id, which must be an audience.</param>
/// <param name="Nonce">The nonce sent at authorize; null for a refreshed id_token (OIDC Core §12.2), which has none to compare.</param>
/// <param name="AllowedAlgorithms">Signature algorithms accepted; never contains <c>none</c>.</param>
/// <param name="JwksUri">Where the provider's public keys are.</param>
/// <param name="ClientSecret">The HMAC key for HS* algorithms (OIDC Core §10.1), used only when they are allowed.</param>
public sealed record IdTokenExpectations(
    string Issuer,
    string ClientId,
    string? Nonce,
    IReadOnlySet<string> AllowedAlgorithms,
    string? JwksUri,
    string? ClientSecret);

/// <summary>
/// Validates an id_token by OIDC Core §3.1.3.7. Every failure is
/// <see cref="ConnectorErrorKind.InvalidCallback"/> with a message naming the rule, never the token.
/// </summary>
public sealed class IdTokenValidator
{
    /// <summary>Asymmetric algorithms the broker verifies with JWKS keys (RFC 7518 §3.1).</summary>
    public static readonly IReadOnlySet<string> AsymmetricAlgorithms =
        new HashSet<string>(StringComparer.Ordinal) { "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512" };

    /// <summary>HMAC algorithms, keyed with the client secret; only accepted when a connection names them.</summary>
    public static readonly IReadOnlySet<string> HmacAlgorithms = new HashSet<string>(StringComparer.Ordinal) { "HS256", "HS384", "HS512" };

    private readonly OidcMetadataCache keys;
    private readonly TimeProvider clock;
    private readonly TimeSpan skew;

    /// <summary>Creates the validator.</summary>
    public IdTokenValidator(OidcMetadataCache keys, TimeProvider clock, TimeSpan skew)
    {
        this.keys = keys;
        this.clock = clock;
        this.skew = skew;
    }

    /// <summary>Validates the token and returns its claims.</summary>
    public async Task<JsonObject> ValidateAsync(string idToken, IdTokenExpectations expected, CancellationToken cancellationToken)
    {
        var jwt = JsonWebToken.TryParse(idToken) ?? throw Invalid("is not a compact JWS (encrypted id_tokens are not supported)");
        var alg = jwt.Algorithm;
        // Step 7: the alg must be one the connection expects; "none" never is, and an HS* alg
        // is refused unless configured, which stops RSA-public-key-as-HMAC-secret confusion.
        if (alg is null || alg == "none" || !expected.AllowedAlgorithms.Contains(alg))
        {
            throw Invalid($"is signed with an algorithm the connection does not accept ({Safe(alg)})");
        }

        if (jwt.Header.ContainsKey("crit"))
        {
            // RFC 7515 §4.1.11: extensions the recipient does not understand make the JWS invalid.
            throw Invalid("has a 'crit' header the broker does not understand");
        }

        if (!await VerifySignatureAsync(jwt, alg, expected, cancellationToken))
        {
            throw Invalid("has a signature that no provider key verifies");
        }

        var claims = jwt.Payload;
        // Step 2: exact comparison; "https://idp/" and "https://idp" are different issuers.
        if (OAuth2Responses.GetString(claims, "iss") != expected.Issuer)
        {
            throw Invalid("has the wrong issuer");
        }

        CheckAudience(claims, expected.ClientId);
        CheckTimes(claims);
        // Step 11: binds the token to this browser's login (replay protection, §3.1.2.1).
        if (expected.Nonce is not null && (OAuth2Responses.GetString(claims, "nonce") is not { } nonce
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(nonce), Encoding.UTF8.GetBytes(expected.Nonce))))
        {
            throw Invalid("has the wrong nonce");
        }

        if (string.IsNullOrEmpty(OAuth2Responses.GetString(claims, "sub")))
        {
            throw Invalid("has no subject");
        }

        return claims;
    }

    private async Task<bool> VerifySignatureAsync(JsonWebToken jwt, string alg, IdTokenExpectations expected, CancellationToken cancellationToken)
    {
        if (HmacAlgorithms.Contains(alg))
        {
            // Step 8: the MAC key is the UTF-8 octets of the client secret (OIDC Core §10.1).
            if (string.IsNullOrEmpty(expected.ClientSecret))
            {
                return false;
            }

            var key = Encoding.UTF8.GetBytes(expected.ClientSecret);
            var mac = alg switch
            {
                "HS256" => HMACSHA256.HashData(key, jwt.SigningInput),
                "HS384" => HMACSHA384.HashData(key, jwt.SigningInput),
                _ => HMACSHA512.HashData(key, jwt.SigningInput),
            };
            return CryptographicOperations.FixedTimeEquals(mac, jwt.Signature);
        }

        if (expected.JwksUri is null)
        {
            throw new ConnectorException(ConnectorErrorKind.Misconfigured, "The provider publishes no jwks_uri to verify id_tokens with.");
        }

        var candidates = await keys.GetKeysAsync(expected.JwksUri, alg, jwt.KeyId, cancellationToken);
        return candidates.Any(k => k.Verify(alg, jwt.SigningInput, jwt.Signature));
    }

    private static void CheckAudience(JsonObject claims, string clientId)
    {
        // Steps 3-5: aud is a string or an array; with several audiences the azp must name us.
        var audiences = claims["aud"] switch
        {
            JsonValue single when single.GetValueKind() == JsonValueKind.String => [single.GetValue<string>()],
            JsonArray many => many.OfType<JsonValue>().Where(v => v.GetValueKind() == JsonValueKind.String).Select(v => v.GetValue<string>()).ToArray(),
            _ => Array.Empty<string>(),
        };
        if (!audiences.Contains(clientId, StringComparer.Ordinal))
        {
            throw Invalid("is not addressed to this client (aud)");
        }

        var azp = OAuth2Responses.GetString(claims, "azp");
        if ((audiences.Length > 1 && azp is null) || (azp is not null && azp != clientId))
        {
            throw Invalid("has several audiences and no azp naming this client");
        }
    }

    private void CheckTimes(JsonObject claims)
    {
        var now = clock.GetUtcNow();
        // Step 9: now < exp, with a little leeway for clock skew (RFC 7519 §4.1.4).
        if (OAuth2Responses.GetTime(claims, "exp") is not { } exp || now - skew >= exp)
        {
            throw Invalid("has expired");
        }

        // Step 10: iat is REQUIRED (Core §2); a token from the future means a bad clock or a forgery.
        if (OAuth2Responses.GetTime(claims, "iat") is not { } iat || iat > now + skew)
        {
            throw Invalid("has a missing or future issue time (iat)");
        }

        if (OAuth2Responses.GetTime(claims, "nbf") is { } nbf && nbf > now + skew)
        {
            throw Invalid("is not valid yet (nbf)");
        }
    }

    private static ConnectorException Invalid(string rule) =>
        new(ConnectorErrorKind.InvalidCallback, $"The id_token {rule}.");

    private static string Safe(string? alg) =>
        alg is null ? "missing" : new string(alg.Take(16).Where(char.IsAsciiLetterOrDigit).ToArray());
}

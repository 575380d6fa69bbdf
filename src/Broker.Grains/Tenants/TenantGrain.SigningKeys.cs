using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Broker.Grains.Tenants;

/// <summary>
/// The OpenID Provider's signing keys (docs/design.md §6 "OpenID Provider"): RS256, made per tenant when first
/// needed, replaced every 30 days. A replaced key stays in the JWKS for a day, far longer than any token it
/// signed lives (5 minutes), so a client that cached the JWKS still verifies them. Signing happens here, in the
/// grain that holds the key, so the private key never leaves the silo that decrypted it.
/// </summary>
public sealed partial class TenantGrain
{
    public static readonly TimeSpan SigningKeyLifetime = TimeSpan.FromDays(30);
    public static readonly TimeSpan ReplacedKeyPublishedFor = TimeSpan.FromDays(1);

    private readonly JsonWebTokenHandler _tokens = new();

    // The decrypted current key, kept in memory: every token issued is signed with it.
    private (string Kid, RsaSecurityKey Key)? _signingKey;

    public async Task<IReadOnlyList<PublicSigningKey>?> GetSigningKeysAsync()
    {
        if (!IsActive)
            return null;
        await CurrentSigningKeyAsync();
        return PublishedKeys(time.GetUtcNow()).Select(k => new PublicSigningKey(k.Kid, k.Modulus, k.Exponent)).Reverse().ToList();
    }

    public async Task<string?> SignAsync(string incarnation, string payload, string type)
    {
        if (!IsActive || State.Incarnation != incarnation)
            return null;
        var key = await CurrentSigningKeyAsync();
        return _tokens.CreateToken(payload, new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
            new Dictionary<string, object> { [JwtHeaderParameterNames.Typ] = type });
    }

    private async Task<RsaSecurityKey> CurrentSigningKeyAsync()
    {
        var now = time.GetUtcNow();
        var current = State.SigningKeys.LastOrDefault();
        if (current is null || now - current.CreatedAt >= SigningKeyLifetime)
        {
            current = NewSigningKey(now);
            State.SigningKeys = [.. PublishedKeys(now), current];
            await WriteAsync();
        }
        if (_signingKey is not { } cached || cached.Kid != current.Kid)
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(Convert.FromBase64String(secrets.Unprotect(current.ProtectedPrivateKey)!), out _);
            _signingKey = cached = (current.Kid, new RsaSecurityKey(rsa) { KeyId = current.Kid });
        }
        return cached.Key;
    }

    /// <summary>The current key and those whose replacement was made less than a day before <paramref name="now"/>.</summary>
    private IEnumerable<StoredSigningKey> PublishedKeys(DateTimeOffset now) =>
        State.SigningKeys.Where((key, i) => i == State.SigningKeys.Count - 1 || State.SigningKeys[i + 1].CreatedAt + ReplacedKeyPublishedFor > now);

    private StoredSigningKey NewSigningKey(DateTimeOffset now)
    {
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        return new StoredSigningKey
        {
            Kid = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12)),
            ProtectedPrivateKey = secrets.Protect(Convert.ToBase64String(rsa.ExportPkcs8PrivateKey()))!,
            Modulus = Base64Url.EncodeToString(parameters.Modulus),
            Exponent = Base64Url.EncodeToString(parameters.Exponent),
            CreatedAt = now,
        };
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace Broker.Api.DevIdp;

/// <summary>The kinds of value the dev IdP issues; each has its own DataProtection purpose so one can never pass as another.</summary>
internal enum DevIdpTokenKind
{
    Code,
    AccessToken,
    RefreshToken,
}

/// <summary>
/// What a code or token stands for. <see cref="FamilyId"/> is the id of the login's grant:
/// every token derived from one code shares it, so a reused refresh token or a revoked one
/// can end the whole family (RFC 6749 §10.4, RFC 7009 §2.1).
/// </summary>
internal sealed record DevIdpGrant(
    string Id,
    string FamilyId,
    string Subject,
    string ClientId,
    string Scope,
    string? RedirectUri,
    string? CodeChallenge,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt);

/// <summary>
/// Issues and reads the dev IdP's codes and tokens. They are self-contained: the grant is
/// serialised and protected with ASP.NET Core DataProtection, so any silo sharing the key ring
/// can read them. Single use and revocation need shared state, which is kept in this process
/// only: the dev IdP is strict on a single silo and best-effort across several (a code could
/// be redeemed once per silo). It is for demos and tests, never production.
/// </summary>
internal sealed class DevIdpTokens
{
    private readonly IDataProtectionProvider protection;
    private readonly TimeProvider clock;
    // Ids of spent codes and refresh tokens, revoked access tokens and revoked families,
    // each kept until the longest-lived token it could affect has expired anyway.
    private readonly ConcurrentDictionary<string, DateTimeOffset> ledger = new(StringComparer.Ordinal);

    public DevIdpTokens(IDataProtectionProvider protection, TimeProvider clock)
    {
        this.protection = protection;
        this.clock = clock;
    }

    public DateTimeOffset Now => clock.GetUtcNow();

    public static string NewId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    public string Protect(DevIdpTokenKind kind, DevIdpGrant grant) =>
        Broker.Grains.Connectors.Base64Url.Encode(Protector(kind).Protect(JsonSerializer.SerializeToUtf8Bytes(grant)));

    /// <summary>Reads a value of the given kind; null when it is forged, of another kind, expired or revoked.</summary>
    public DevIdpGrant? Read(DevIdpTokenKind kind, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 4096 || Broker.Grains.Connectors.Base64Url.TryDecode(value) is not { } bytes)
        {
            return null;
        }

        DevIdpGrant? grant;
        try
        {
            grant = JsonSerializer.Deserialize<DevIdpGrant>(Protector(kind).Unprotect(bytes));
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException)
        {
            return null;
        }

        return grant is null || grant.ExpiresAt <= Now || IsRevoked(grant) ? null : grant;
    }

    /// <summary>Marks a single-use value spent; false when it already was (a replay).</summary>
    public bool TryConsume(DevIdpGrant grant)
    {
        Prune();
        return ledger.TryAdd("used:" + grant.Id, grant.ExpiresAt);
    }

    /// <summary>Revokes one token.</summary>
    public void Revoke(DevIdpGrant grant) => ledger["revoked:" + grant.Id] = grant.ExpiresAt;

    /// <summary>Revokes every token of a login's family, for as long as any of them could live.</summary>
    public void RevokeFamily(DevIdpGrant grant, TimeSpan longestLifetime) =>
        ledger["family:" + grant.FamilyId] = Now + longestLifetime;

    private bool IsRevoked(DevIdpGrant grant) =>
        ledger.ContainsKey("revoked:" + grant.Id) || ledger.ContainsKey("family:" + grant.FamilyId);

    private IDataProtector Protector(DevIdpTokenKind kind) => protection.CreateProtector("Broker.DevIdp.v1", kind.ToString());

    private void Prune()
    {
        if (ledger.Count < 1024)
        {
            return;
        }

        var now = Now;
        foreach (var (key, until) in ledger)
        {
            if (until <= now)
            {
                ledger.TryRemove(key, out _);
            }
        }
    }
}

using Broker.Grains.Tenants;
using Microsoft.AspNetCore.DataProtection;

namespace Broker.Grains.Sessions;

/// <summary>What a hand-off code says: whose session it hands over, and until when.</summary>
public sealed record HandoffCode(TenantRef Tenant, string SessionId, DateTimeOffset ExpiresAt);

/// <summary>
/// The one-time code the callback gives the app (docs/design.md §2: a field of the session). The code
/// carries the session id and the tenant's life, encrypted and authenticated with the Data
/// Protection key ring every silo shares, so nobody can make one or read the session id out of it;
/// the session records that it was redeemed (a conditional write), which makes it single use
/// (RFC 6749 §4.1.2). Nothing is stored for a code itself: a login writes one grain fewer.
/// </summary>
public sealed class HandoffCodes(IDataProtectionProvider keys, TimeProvider time)
{
    private readonly IDataProtector _protector = keys.CreateProtector("Broker.Handoff.v1");

    public string Create(HandoffCode code) =>
        _protector.Protect($"{code.Tenant.Id}\n{code.Tenant.Incarnation}\n{code.SessionId}\n{code.ExpiresAt.ToUnixTimeMilliseconds()}");

    /// <summary>The code's contents when it is one of ours, for this tenant's life and not expired; otherwise null.</summary>
    public HandoffCode? Read(string code, TenantRef tenant)
    {
        string text;
        try
        {
            text = _protector.Unprotect(code);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
        var parts = text.Split('\n');
        if (parts.Length != 4 || !long.TryParse(parts[3], out var expires))
            return null;
        var read = new HandoffCode(new TenantRef(parts[0], parts[1]), parts[2], DateTimeOffset.FromUnixTimeMilliseconds(expires));
        return read.Tenant == tenant && time.GetUtcNow() < read.ExpiresAt ? read : null;
    }

    /// <summary>Whether <paramref name="code"/> could be one of ours at all (base64url, a sane length),
    /// checked before anything is decrypted.</summary>
    public static bool IsWellFormed(string? code) =>
        code is { Length: >= 40 and <= 1024 } && code.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

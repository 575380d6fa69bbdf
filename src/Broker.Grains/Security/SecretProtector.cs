using Microsoft.AspNetCore.DataProtection;

namespace Broker.Grains.Security;

/// <summary>
/// Encrypts client secrets and upstream tokens before they go into grain state (docs/design.md §5), with
/// ASP.NET Core Data Protection. Every silo must share the key ring to read what another wrote.
/// </summary>
public sealed class SecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Broker.Secrets.v1");

    public string? Protect(string? plaintext) => plaintext is null ? null : _protector.Protect(plaintext);

    public string? Unprotect(string? protectedText) => protectedText is null ? null : _protector.Unprotect(protectedText);
}

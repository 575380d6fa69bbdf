using System.Security.Cryptography;
using System.Text;

namespace Broker.Grains.Users;

/// <summary>Broker user ids: a hash of (tenant life, connection, subject), so the same upstream account always
/// maps to the same user, and neither different tenants nor a tenant created again under a deleted
/// one's id share one.</summary>
public static class UserIds
{
    public static string For(Tenants.TenantRef tenant, string connectionId, string subject)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{tenant.Id}\n{tenant.Incarnation}\n{connectionId}\n{subject}"));
        return "usr_" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }

    public static bool IsWellFormed(string? value) =>
        value is { Length: 36 } && value.StartsWith("usr_", StringComparison.Ordinal) && value[4..].All(char.IsAsciiHexDigitLower);
}

using System.Security.Cryptography;
using System.Text;
using Broker.Grains.Security;

namespace Broker.Grains.Tenants;

/// <summary>
/// Tenant API keys: <c>{tenantId}.{256 random bits}</c>. The tenant prefix lets the API tell another
/// tenant's key (404) from a wrong one (401) without a global index. Only a SHA-256 hash is stored:
/// the keys carry 256 bits of entropy, so a slow password hash would add cost and no safety.
/// </summary>
public static class ApiKeys
{
    public static string New(string tenantId) => $"{tenantId}.{RandomIds.New()}";

    /// <summary>The tenant a key claims to belong to, or null when it is not shaped like a key.</summary>
    public static string? TenantOf(string apiKey)
    {
        var dot = apiKey.LastIndexOf('.');
        return dot > 0 ? apiKey[..dot] : null;
    }

    public static string Hash(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    /// <summary>Compares against every stored hash in constant time, so timing reveals neither which key
    /// matched nor how much of a guess was right.</summary>
    public static bool Matches(string apiKey, IEnumerable<string> storedHashes)
    {
        var presented = Encoding.ASCII.GetBytes(Hash(apiKey));
        var match = false;
        foreach (var stored in storedHashes)
            match |= CryptographicOperations.FixedTimeEquals(presented, Encoding.ASCII.GetBytes(stored));
        return match;
    }
}

using System.Security.Cryptography;
using System.Text;
using Broker.Grains.Security;

namespace Broker.Grains.Tenants;

/// <summary>
/// Tenant API keys: <c>{tenantId}.{keyId}.{256 random bits}</c>. The tenant prefix lets the API tell
/// another tenant's key (404) from a wrong one (401) without a global index; the key id names the key
/// for listing and deletion, so whoever holds a leaked key can read off which one to delete. Only a
/// SHA-256 hash of the whole key is stored: the keys carry 256 bits of entropy, so a slow password
/// hash would add cost and no safety.
/// </summary>
public static class ApiKeys
{
    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const int IdLength = 12;

    public static (string Id, string Key) New(string tenantId)
    {
        var id = RandomNumberGenerator.GetString(IdAlphabet, IdLength);
        return (id, $"{tenantId}.{id}.{RandomIds.New()}");
    }

    /// <summary>The tenant a key claims to belong to, or null when it is not shaped like a key.</summary>
    public static string? TenantOf(string apiKey)
    {
        var dot = apiKey.IndexOf('.');
        return dot > 0 ? apiKey[..dot] : null;
    }

    public static bool IsWellFormedId(string? value) =>
        value is { Length: IdLength } && value.All(c => IdAlphabet.Contains(c));

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

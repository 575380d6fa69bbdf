using System.Security.Cryptography;
using System.Text;

namespace Broker.Grains.Security;

/// <summary>
/// How high-entropy secrets the broker makes are kept (app client secrets, refresh tokens of the OpenID Provider):
/// a SHA-256 hash, compared in constant time. 256 random bits need no slow password hash.
/// </summary>
public static class SecretHash
{
    public static string Of(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static bool Matches(string presented, string? storedHash) =>
        storedHash is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Of(presented)), Encoding.ASCII.GetBytes(storedHash));
}

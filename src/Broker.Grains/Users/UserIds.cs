using System.Security.Cryptography;

namespace Broker.Grains.Users;

/// <summary>Broker user ids: <c>usr_</c> and 128 random bits in lower-case hex. Random, not derived from an
/// identity, because an identity can be unlinked and linked to another user, and a deleted user's identity
/// that signs in again is a new user (docs/design.md §6 "Users and identities").</summary>
public static class UserIds
{
    public static string New() => "usr_" + RandomNumberGenerator.GetHexString(32, lowercase: true);

    public static bool IsWellFormed(string? value) =>
        value is { Length: 36 } && value.StartsWith("usr_", StringComparison.Ordinal) && value[4..].All(char.IsAsciiHexDigitLower);
}

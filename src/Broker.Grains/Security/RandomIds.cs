using System.Security.Cryptography;

namespace Broker.Grains.Security;

/// <summary>Unguessable identifiers: 256 random bits, base64url (43 characters).</summary>
public static class RandomIds
{
    public static string New() => Connectors.Base64Url.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>True for strings that could be one of ours; anything else is rejected before a grain is touched.</summary>
    public static bool IsWellFormed(string? value) =>
        value is { Length: 43 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

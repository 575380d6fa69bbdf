using System.Security.Cryptography;
using System.Text;

namespace Broker.Grains.Connectors;

/// <summary>PKCE with the S256 method (RFC 7636).</summary>
public static class Pkce
{
    /// <summary>The only method the broker sends: an omitted method would mean <c>plain</c> (RFC 7636 §4.3).</summary>
    public const string MethodS256 = "S256";

    /// <summary>
    /// A fresh verifier: 32 random bytes as base64url, 43 characters of the unreserved set
    /// (RFC 7636 §4.1 asks for 43–128 characters and §7.1 for 256 bits of entropy).
    /// </summary>
    public static string CreateVerifier() => Base64Url.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>BASE64URL(SHA256(ASCII(verifier))), no padding (RFC 7636 §4.2).</summary>
    public static string ComputeChallenge(string verifier)
    {
        if (!IsValidVerifier(verifier))
        {
            throw new ArgumentException("A PKCE verifier is 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1).", nameof(verifier));
        }

        return Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
    }

    /// <summary>Whether a verifier has the length and alphabet of RFC 7636 §4.1.</summary>
    /// <summary>Whether <paramref name="verifier"/> is the one <paramref name="challenge"/> (S256) was made from.</summary>
    public static bool Verifies(string verifier, string challenge) =>
        IsValidVerifier(verifier) && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(ComputeChallenge(verifier)), System.Text.Encoding.ASCII.GetBytes(challenge));

    public static bool IsValidVerifier(string? verifier) =>
        verifier is { Length: >= 43 and <= 128 } && verifier.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~');
}

/// <summary>Base64url without padding (RFC 4648 §5), as JOSE and PKCE use it.</summary>
public static class Base64Url
{
    /// <summary>Encodes bytes.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    /// <summary>Decodes a base64url string; returns null when it is not valid base64url.</summary>
    public static byte[]? TryDecode(string value)
    {
        try
        {
            return System.Buffers.Text.Base64Url.DecodeFromChars(value);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Broker.Api;

/// <summary>Reads bearer tokens (RFC 6750 §2.1) and tells the admin token and tenant API keys apart.</summary>
public static class BearerAuth
{
    /// <summary>The longest token looked at; a longer one is no key of ours and no admin token.</summary>
    private const int MaxTokenLength = 512;

    /// <summary>
    /// The token of an <c>Authorization: Bearer ...</c> header; null when none was sent, and "" when
    /// one was sent that cannot be a token (empty or too long), so that the 401 still says
    /// <c>invalid_token</c> (RFC 6750 §3.1).
    /// </summary>
    public static string? Token(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return null;
        var token = value["Bearer ".Length..].Trim();
        return token.Length <= MaxTokenLength ? token : "";
    }

    /// <summary>
    /// Constant-time comparison with the admin token and every previous one, all of them compared
    /// whatever matched. Hashing first makes both sides the same length, so neither the content nor
    /// the length of a token leaks through timing.
    /// </summary>
    public static bool IsAdmin(string? token, BrokerApiOptions options)
    {
        if (string.IsNullOrEmpty(token))
            return false;
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), given);
        var match = false;
        foreach (var adminToken in options.PreviousAdminTokens.Prepend(options.AdminToken))
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(adminToken), expected);
            match |= CryptographicOperations.FixedTimeEquals(given, expected);
        }
        return match;
    }
}

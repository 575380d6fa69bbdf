using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Broker.Load.Upstream;

/// <summary>
/// Self-contained codes and tokens: base64url(JSON) "." base64url(HMAC-SHA256). The upstream keeps no
/// state per code or token, so it stays fast whatever the number of sessions, and the benchmark can mint
/// refresh tokens for seeded sessions with the same key (<c>BROKER_LOAD_UPSTREAM_KEY</c>).
/// </summary>
public sealed class SealedTokens(byte[] key)
{
    public string Seal(JsonObject claims)
    {
        var body = Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        return body + "." + Base64Url(HMACSHA256.HashData(key, System.Text.Encoding.ASCII.GetBytes(body)));
    }

    /// <summary>The claims, or null when the token is malformed or its MAC does not verify.</summary>
    public JsonObject? Unseal(string? token)
    {
        var dot = token?.IndexOf('.') ?? -1;
        if (dot <= 0)
            return null;
        var body = token![..dot];
        Span<byte> mac = stackalloc byte[64];
        if (!TryFromBase64Url(token[(dot + 1)..], mac, out var length) || length != 32)
            return null;
        var expected = HMACSHA256.HashData(key, System.Text.Encoding.ASCII.GetBytes(body));
        if (!CryptographicOperations.FixedTimeEquals(expected, mac[..length]))
            return null;
        try
        {
            return JsonNode.Parse(Convert.FromBase64String(ToBase64(body))) as JsonObject;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryFromBase64Url(string text, Span<byte> bytes, out int length) =>
        Convert.TryFromBase64String(ToBase64(text), bytes, out length);

    private static string ToBase64(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }
}

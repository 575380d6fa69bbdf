using System.Text;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.Oidc;

/// <summary>A parsed compact JWS (RFC 7515 §7.1). Parsing checks the shape only; nothing here is trusted yet.</summary>
public sealed record JsonWebToken(JsonObject Header, JsonObject Payload, byte[] SigningInput, byte[] Signature)
{
    private const int MaxLength = 64 * 1024;

    /// <summary>The header's <c>alg</c>.</summary>
    public string? Algorithm => OAuth2Responses.GetString(Header, "alg");

    /// <summary>The header's <c>kid</c>.</summary>
    public string? KeyId => OAuth2Responses.GetString(Header, "kid");

    /// <summary>Parses a compact JWS; returns null when it is not one (five-part JWE included).</summary>
    public static JsonWebToken? TryParse(string token)
    {
        if (token.Length > MaxLength)
        {
            return null;
        }

        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        var header = Base64Url.TryDecode(parts[0]);
        var payload = Base64Url.TryDecode(parts[1]);
        var signature = Base64Url.TryDecode(parts[2]);
        if (header is null || payload is null || signature is null)
        {
            return null;
        }

        var headerJson = ParseUtf8(header);
        var payloadJson = ParseUtf8(payload);
        return headerJson is null || payloadJson is null
            ? null
            : new JsonWebToken(headerJson, payloadJson, Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), signature);
    }

    private static JsonObject? ParseUtf8(byte[] bytes)
    {
        try
        {
            return OAuth2Responses.ParseObject(new UTF8Encoding(false, true).GetString(bytes));
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}

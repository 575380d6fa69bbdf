using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Http;

namespace Broker.Grains.Connectors.OAuth2;

/// <summary>Parsing of token endpoint answers (RFC 6749 §5.1, §5.2) and JSON members with provider quirks.</summary>
public static class OAuth2Responses
{
    private const int MaxDescriptionLength = 200;
    private const long MaxExpiresInSeconds = 366L * 24 * 3600;

    /// <summary>
    /// Reads a successful token response. <c>expires_in</c> may be a number or a string (QQ sends
    /// strings); a form-encoded body is accepted too (QQ and GitHub answer forms unless asked not to).
    /// </summary>
    public static UpstreamTokens ParseTokens(UpstreamResponse response, DateTimeOffset now, string what)
    {
        var json = ParseObjectOrForm(response);
        if (json is null || GetString(json, "access_token") is not { Length: > 0 } accessToken)
        {
            // 200 + "error" is how GitHub reports a refused code (PROVIDERS.md §5).
            if (json is not null && GetString(json, "error") is { } error)
            {
                throw ErrorToException(error, GetString(json, "error_description"), what);
            }

            throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, $"The provider's {what} answer has no access_token.");
        }

        var expiresIn = GetSeconds(json, "expires_in");
        return new UpstreamTokens(
            accessToken,
            GetString(json, "token_type") ?? "Bearer",
            GetString(json, "refresh_token"),
            GetString(json, "id_token"),
            // Clamped: a negative or absurd expires_in must not overflow or yield a past expiry.
            expiresIn is { } s ? now.AddSeconds(Math.Clamp(s, 0, MaxExpiresInSeconds)) : null,
            GetString(json, "scope"));
    }

    /// <summary>
    /// Turns a non-2xx token-endpoint answer into the exception the caller branches on:
    /// RFC 6749 §5.2 error codes when the body has one, else the HTTP status.
    /// </summary>
    public static ConnectorException ToException(UpstreamResponse response, string what)
    {
        var json = ParseObjectOrForm(response);
        if (json is not null && GetString(json, "error") is { } error && (int)response.StatusCode < 500)
        {
            return ErrorToException(error, GetString(json, "error_description"), what);
        }

        var kind = (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests || response.StatusCode == HttpStatusCode.RequestTimeout
            ? ConnectorErrorKind.UpstreamUnavailable
            : ConnectorErrorKind.Misconfigured;
        return new ConnectorException(kind, $"The provider's {what} answered HTTP {(int)response.StatusCode}.",
            json is null ? null : GetString(json, "error"), Truncate(json is null ? null : GetString(json, "error_description")));
    }

    /// <summary>Maps an RFC 6749 §5.2 error code to a kind.</summary>
    public static ConnectorException ErrorToException(string error, string? description, string what)
    {
        var kind = error switch
        {
            "invalid_grant" => ConnectorErrorKind.InvalidGrant,
            "access_denied" => ConnectorErrorKind.AccessDenied,
            "temporarily_unavailable" or "server_error" or "slow_down" => ConnectorErrorKind.UpstreamUnavailable,
            // invalid_client, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_request:
            // the request the broker built from this connection is wrong, and will be wrong again.
            _ => ConnectorErrorKind.Misconfigured,
        };
        return new ConnectorException(kind, $"The provider's {what} refused the request: {SafeCode(error)}.", SafeCode(error), Truncate(description));
    }

    /// <summary>Parses a JSON object body, or an <c>application/x-www-form-urlencoded</c> one; null when neither.</summary>
    public static JsonObject? ParseObjectOrForm(UpstreamResponse response)
    {
        if (ParseObject(response.Body) is { } json)
        {
            return json;
        }

        if (response.MediaType is "application/x-www-form-urlencoded" or "text/plain" or "text/html" && response.Body.Contains('='))
        {
            var form = new JsonObject();
            foreach (var pair in response.Body.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var at = pair.IndexOf('=');
                var key = WebUtility.UrlDecode(at < 0 ? pair : pair[..at]);
                form[key] = at < 0 ? "" : WebUtility.UrlDecode(pair[(at + 1)..]);
            }

            return form;
        }

        return null;
    }

    /// <summary>Parses a JSON object; null when the text is not one.</summary>
    public static JsonObject? ParseObject(string body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A member as a string; numbers and booleans are converted, objects and arrays are not.</summary>
    public static string? GetString(JsonObject json, string name) =>
        json[name] is JsonValue value ? value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
            _ => null,
        } : null;

    /// <summary>A member holding seconds, as a JSON number or a numeric string.</summary>
    public static long? GetSeconds(JsonObject json, string name)
    {
        if (json[name] is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.Number when value.TryGetValue<long>(out var n) => n,
            JsonValueKind.Number when value.TryGetValue<double>(out var d) => (long)d,
            JsonValueKind.String when long.TryParse(value.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var s) => s,
            _ => null,
        };
    }

    /// <summary>A member holding a NumericDate (RFC 7519 §2), clamped to the representable range.</summary>
    public static DateTimeOffset? GetTime(JsonObject json, string name) =>
        GetSeconds(json, name) is { } seconds
            ? DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, DateTimeOffset.MinValue.ToUnixTimeSeconds(), DateTimeOffset.MaxValue.ToUnixTimeSeconds()))
            : null;

    // Upstream text ends up in logs and problem details: keep it short and printable.
    private static string? Truncate(string? text) =>
        text is null ? null : new string(text.Take(MaxDescriptionLength).Where(c => !char.IsControl(c)).ToArray());

    private static string SafeCode(string code) =>
        code.Length <= 64 && code.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') ? code : "unrecognised_error";
}

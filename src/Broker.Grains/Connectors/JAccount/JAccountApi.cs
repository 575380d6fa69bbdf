using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Api;

namespace Broker.Grains.Connectors.JAccount;

/// <summary>
/// jAccount's REST envelope <c>{errno, error, total, entities}</c> (GJ <c>Response</c>, AE):
/// <c>errno</c> is authoritative, and a failure may come with HTTP 200 (AE, BAD_PARAMETERS sample).
/// </summary>
public static class JAccountApi
{
    /// <summary>The access token has expired (AE errors).</summary>
    public const int TokenExpired = 10007;

    /// <summary>"Authentication Failed.", sent with 403 to a call without a valid token (AE).</summary>
    public const int AuthenticationFailed = 10002;

    /// <summary>The token lacks the scope the API needs (AE errors).</summary>
    public const int MissingScope = 10010;

    /// <summary>Null for <c>errno 0</c> with a 2xx status; token errors ask for a refresh; anything else fails.</summary>
    public static ApiFailure? Classify(int status, ReadOnlySpan<byte> body)
    {
        if (Errno(body) is not { } envelope)
        {
            // Not the envelope (a proxy's error page, an empty 204): the status decides.
            return BearerApi.Classify(status);
        }

        var (errno, error) = envelope;
        var code = errno.ToString(CultureInfo.InvariantCulture);
        return errno switch
        {
            0 when status is >= 200 and <= 299 => null,
            0 => new ApiFailure(ApiFailureKind.Failed, code, $"jAccount answered HTTP {status} with errno 0."),
            TokenExpired or AuthenticationFailed => new ApiFailure(ApiFailureKind.TokenRejected, code, $"jAccount refused the access token (errno {code}: {error})."),
            _ => new ApiFailure(ApiFailureKind.Failed, code, $"jAccount's API failed (errno {code}: {error})."),
        };
    }

    private static (long Errno, string Error)? Errno(ReadOnlySpan<byte> body)
    {
        try
        {
            if (body.IsEmpty || JsonNode.Parse(body) is not JsonObject json || json["errno"] is not JsonValue value)
            {
                return null;
            }

            long? errno = value.GetValueKind() switch
            {
                JsonValueKind.Number when value.TryGetValue<long>(out var n) => n,
                JsonValueKind.String when long.TryParse(value.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) => s,
                _ => null,
            };
            var error = json["error"] is JsonValue e && e.GetValueKind() == JsonValueKind.String ? e.GetValue<string>() : "";
            // BAD_PARAMETERS errors carry "\n\nMORE_INFORMATION:..." (AE): keep the first line, short and printable.
            error = new string(error.Split('\n')[0].Take(120).Where(c => !char.IsControl(c)).ToArray());
            return errno is { } n2 ? (n2, error) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

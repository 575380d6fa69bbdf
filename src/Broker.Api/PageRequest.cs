using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Broker.Api;

/// <summary>
/// The paging of a list route: <c>limit</c> (1 to a maximum, with a default) and <c>cursor</c>, the previous
/// page's <c>nextCursor</c> passed back unchanged. The cursor is opaque to callers (base64url of a
/// versioned key), so the key it holds can change without breaking them. A malformed one is a 400 naming it.
/// </summary>
public sealed record PageRequest(int Limit, string? After, ProblemHttpResult? Invalid)
{
    private const string Version = "v1:";

    public static PageRequest Read(IQueryCollection query, int maxLimit, int defaultLimit, Func<string, bool> isKey)
    {
        if (ReadLimit(query, maxLimit, defaultLimit, out var limit) is { } invalid)
            return new(defaultLimit, null, invalid);
        if (!query.TryGetValue("cursor", out var rawCursor))
            return new(limit, null, null);
        return rawCursor.Count == 1 && Decode(rawCursor[0]) is { } after && isKey(after)
            ? new(limit, after, null)
            : new(limit, null, Problems.Invalid("cursor", "is not a cursor this route gave out; pass the previous page's nextCursor unchanged."));
    }

    /// <summary>Reads <c>limit</c> alone, for routes that page by something other than the cursor.</summary>
    public static ProblemHttpResult? ReadLimit(IQueryCollection query, int maxLimit, int defaultLimit, out int limit)
    {
        limit = defaultLimit;
        if (!query.TryGetValue("limit", out var raw))
            return null;
        if (raw.Count == 1 && int.TryParse(raw[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit >= 1 && limit <= maxLimit)
            return null;
        limit = defaultLimit;
        return Problems.Invalid("limit", $"must be a whole number from 1 to {maxLimit}.");
    }

    public static string Cursor(string after) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Version + after));

    private static string? Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor) || !Base64Url.IsValid(cursor))
            return null;
        var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        return text.StartsWith(Version, StringComparison.Ordinal) ? text[Version.Length..] : null;
    }
}

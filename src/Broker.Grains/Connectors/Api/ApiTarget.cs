using System.Text;

namespace Broker.Grains.Connectors.Api;

/// <summary>
/// The URL the upstream proxy may call: a path and query resolved below a connection's API base
/// URL, or the reason it was refused (docs/design.md §5: "the upstream proxy cannot reach anything
/// outside the connection's API base URL"). The check is on the raw text, before any URL parser
/// gets to normalise it, and fails closed: anything unusual is refused rather than interpreted.
/// </summary>
/// <param name="Url">The absolute target, when the path was accepted.</param>
/// <param name="Error">Why the path was refused, when it was; safe to show to the caller.</param>
public readonly record struct ApiTarget(Uri? Url, string? Error)
{
    private const int MaxPathLength = 2048;
    private const int MaxDecodingRounds = 4;

    /// <summary>Whether the path was accepted.</summary>
    public bool IsValid => Url is not null;

    /// <summary>
    /// Resolves <paramref name="path"/> against <paramref name="apiBaseUrl"/>. A path without a
    /// leading slash is relative to the base (<c>user/emails</c>); one with a leading slash names a
    /// path on the base's host, which must lie below the base path on a segment boundary
    /// (base <c>/v1/</c> allows <c>/v1/me</c>, never <c>/v10/me</c>). Refused: <c>.</c>/<c>..</c>
    /// segments in any encoding (percent-encoded, mixed case, double-encoded, <c>..;</c>), encoded
    /// slashes or backslashes, raw backslashes, absolute or scheme-relative URLs, <c>@</c>,
    /// <c>?</c>/<c>#</c> (the query goes in <paramref name="query"/>), empty segments, control,
    /// space and non-ASCII characters (percent-encode them), and malformed percent escapes.
    /// </summary>
    /// <param name="apiBaseUrl">The connection's API root (<see cref="IApiConnector.ApiBaseUrl"/>).</param>
    /// <param name="path">The caller's path, percent-encoded as it should go on the wire.</param>
    /// <param name="query">Query parameters, encoded here (RFC 3986 §3.4); null or empty for none.</param>
    public static ApiTarget Resolve(Uri apiBaseUrl, string? path, IEnumerable<KeyValuePair<string, string>>? query)
    {
        if (!apiBaseUrl.IsAbsoluteUri || (apiBaseUrl.Scheme != Uri.UriSchemeHttps && apiBaseUrl.Scheme != Uri.UriSchemeHttp)
            || apiBaseUrl.UserInfo.Length > 0 || apiBaseUrl.Query.Length > 0 || apiBaseUrl.Fragment.Length > 0)
        {
            return Refuse("The connection's API base URL must be an http(s) URL without credentials, query or fragment.");
        }

        if (path is null || path.Length > MaxPathLength)
        {
            return Refuse($"The path is missing or longer than {MaxPathLength} characters.");
        }

        if (CheckCharacters(path) is { } badCharacter)
        {
            return Refuse(badCharacter);
        }

        if (path.Contains("//", StringComparison.Ordinal))
        {
            // "//host/x" is a scheme-relative reference to another host (RFC 3986 §4.2); empty
            // segments elsewhere are refused too, as servers disagree on collapsing them.
            return Refuse("The path must not contain '//' (scheme-relative URLs and empty segments are refused).");
        }

        if (HasScheme(path))
        {
            return Refuse("The path must be a path, not an absolute URL.");
        }

        foreach (var segment in path.Split('/'))
        {
            if (CheckSegment(segment) is { } badSegment)
            {
                return Refuse(badSegment);
            }
        }

        var basePath = apiBaseUrl.AbsolutePath.EndsWith('/') ? apiBaseUrl.AbsolutePath : apiBaseUrl.AbsolutePath + "/";
        var fullPath = path.StartsWith('/') ? path : basePath + path;
        if (!IsBelow(fullPath, basePath))
        {
            return Refuse("The path is not below the connection's API base URL.");
        }

        var text = new StringBuilder(apiBaseUrl.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped)).Append(fullPath);
        var separator = '?';
        foreach (var (key, value) in query ?? [])
        {
            if (string.IsNullOrEmpty(key))
            {
                return Refuse("A query parameter has an empty name.");
            }

            text.Append(separator).Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
            separator = '&';
        }

        // Belt and braces: whatever the URL parser made of the text must still be on the base's
        // scheme, host and port, without credentials, and below the base path.
        if (!Uri.TryCreate(text.ToString(), UriKind.Absolute, out var url)
            || Uri.Compare(url, apiBaseUrl, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) != 0
            || url.UserInfo.Length > 0
            || !IsBelow(url.AbsolutePath, basePath))
        {
            return Refuse("The path does not resolve below the connection's API base URL.");
        }

        return new ApiTarget(url, null);
    }

    private static ApiTarget Refuse(string error) => new(null, error);

    private static bool IsBelow(string fullPath, string basePath) =>
        fullPath.StartsWith(basePath, StringComparison.Ordinal) || fullPath + "/" == basePath;

    // RFC 3986 §3.3 pchar plus '/', without '@' (userinfo look-alikes) and with '%' only as a valid escape.
    private static string? CheckCharacters(string path)
    {
        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '!' or '$' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or ';' or '=' or ':' or '/')
            {
                continue;
            }

            if (c == '%')
            {
                if (i + 2 >= path.Length || !char.IsAsciiHexDigit(path[i + 1]) || !char.IsAsciiHexDigit(path[i + 2]))
                {
                    return "The path has a malformed percent escape.";
                }

                continue;
            }

            return c switch
            {
                '\\' => "The path must not contain a backslash.",
                '@' => "The path must not contain '@'.",
                '?' or '#' => "The path must not contain '?' or '#'; pass query parameters separately.",
                _ when char.IsControl(c) => "The path must not contain control characters.",
                _ => "The path has a character that must be percent-encoded (space or non-ASCII).",
            };
        }

        return null;
    }

    private static bool HasScheme(string path)
    {
        // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
        var colon = path.IndexOf(':');
        return colon > 0 && char.IsAsciiLetter(path[0]) && path[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.');
    }

    private static string? CheckSegment(string segment)
    {
        var decoded = segment;
        for (var round = 0; decoded.Contains('%'); round++)
        {
            if (round == MaxDecodingRounds)
            {
                return "The path is percent-encoded too many times.";
            }

            var next = Uri.UnescapeDataString(decoded);
            if (next == decoded)
            {
                break;
            }

            decoded = next;
        }

        if (decoded.Contains('/') || decoded.Contains('\\'))
        {
            return "The path must not contain encoded slashes or backslashes.";
        }

        if (decoded.Any(char.IsControl))
        {
            return "The path must not contain encoded control characters.";
        }

        // "..;x" is ".." to servlet containers (path parameters, RFC 3986 §3.3), and "..." or ". ."
        // can be ".." to Windows servers, which trim dots and spaces: any all-dot name is refused.
        var name = decoded.Split(';')[0].Trim();
        return name.Length > 0 && name.All(c => c == '.') || (name.Length == 0 && decoded.Length > 0 && decoded.Trim().Length == 0)
            ? "The path must not contain '.' or '..' segments, in any encoding."
            : null;
    }
}

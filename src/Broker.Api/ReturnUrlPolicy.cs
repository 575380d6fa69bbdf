using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Api;

/// <summary>
/// Which URLs the broker redirects browsers to (docs/design.md §5: no open redirects). A return URL
/// matches a registered one when scheme, host (case-insensitive), port and path are equal; its
/// query is kept. Deliberately strict: anything a browser, a proxy and .NET might read
/// differently (userinfo, backslashes, encoded dots or slashes, control characters, non-ASCII) is
/// refused rather than normalised, because a mismatch there is how open redirects happen.
/// </summary>
public static class ReturnUrlPolicy
{
    private const int MaxLength = 2048;

    /// <summary>Members the broker adds on the way back (RFC 6749 §4.1.2); a return URL that already has them is refused.</summary>
    private static readonly string[] ReservedParameters = ["code", "state", "error", "error_description", "error_uri", "iss"];

    /// <summary>Why <paramref name="url"/> cannot be registered as a return URL, or null when it can.</summary>
    public static string? CheckRegistration(string? url)
    {
        if (Parse(url) is not { } uri)
            return "must be an absolute http(s) URL without credentials, fragment, backslashes, encoded dots or slashes.";
        return uri.Query.Length > 0 ? "must not have a query (the query of return_to is free)." : null;
    }

    /// <summary>The return URL when it is well formed and matches one of <paramref name="registered"/>; otherwise null.</summary>
    public static Uri? Match(string? returnTo, IEnumerable<string> registered)
    {
        if (Parse(returnTo) is not { } uri || HasReservedParameter(uri))
            return null;
        return registered.Select(Parse).Any(r => r is not null && SameTarget(uri, r)) ? uri : null;
    }

    /// <summary>Whether <paramref name="returnTo"/> could be a return URL at all, before any tenant is looked up.</summary>
    /// <summary>return_to as given when it matches a registered URL; when left out, the only registered one (null otherwise).</summary>
    public static string? Resolve(string? returnTo, IReadOnlyList<string> registered) =>
        returnTo is null
            ? registered.Count == 1 ? registered[0] : null
            : Match(returnTo, registered)?.OriginalString;

    public static bool IsWellFormed(string? returnTo) => Parse(returnTo) is { } uri && !HasReservedParameter(uri);

    /// <summary>The return URL with the broker's parameters appended to its query.</summary>
    public static string Append(string returnTo, params (string Name, string? Value)[] parameters) =>
        QueryHelpers.AddQueryString(returnTo, parameters.Where(p => p.Value is not null).Select(p => new KeyValuePair<string, string?>(p.Name, p.Value)));

    private static bool SameTarget(Uri candidate, Uri registered) =>
        candidate.Scheme == registered.Scheme
        && string.Equals(candidate.Host, registered.Host, StringComparison.OrdinalIgnoreCase)
        && candidate.Port == registered.Port
        && string.Equals(RawPath(candidate), RawPath(registered), StringComparison.Ordinal);

    private static Uri? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
            return null;
        // Only printable ASCII: whitespace, control characters and IRIs are refused, not cleaned up.
        if (value.Any(c => c is <= ' ' or >= '\u007f' or '\\' or '#'))
            return null;
        var schemeEnd = value.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0 || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            return null;
        var rest = value[(schemeEnd + 3)..];
        var authority = rest[..IndexOfAny(rest, '/', '?')];
        if (authority.Length == 0 || authority.Contains('@') || authority.Contains('%') || uri.UserInfo.Length > 0)
            return null;
        var path = rest[authority.Length..IndexOfAny(rest, '?')];
        if (path.Contains("%2e", StringComparison.OrdinalIgnoreCase) || path.Contains("%2f", StringComparison.OrdinalIgnoreCase)
            || path.Contains("%5c", StringComparison.OrdinalIgnoreCase) || path.Split('/').Any(segment => segment is "." or ".."))
            return null;
        return uri;
    }

    /// <summary>The path as written, not as <see cref="Uri"/> normalised it ("" and "/" are the same path, RFC 3986 §6.2.3).</summary>
    private static string RawPath(Uri uri)
    {
        var original = uri.OriginalString;
        var rest = original[(original.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var path = rest[IndexOfAny(rest, '/', '?')..IndexOfAny(rest, '?')];
        return path.Length == 0 ? "/" : path;
    }

    private static bool HasReservedParameter(Uri uri) =>
        uri.Query.Length > 1 && QueryHelpers.ParseQuery(uri.Query).Keys.Any(k => ReservedParameters.Contains(k, StringComparer.OrdinalIgnoreCase));

    private static int IndexOfAny(string value, params char[] characters)
    {
        var index = value.IndexOfAny(characters);
        return index < 0 ? value.Length : index;
    }
}

namespace Broker.Api;

/// <summary>
/// What a string in a request body may hold (docs/design.md §5): no control characters (NUL, CR, LF...
/// end up in headers, logs and URLs) and no characters that reorder or hide text on a page
/// (bidirectional overrides and marks, the byte-order mark), which would let a name shown on the
/// connection chooser read as something it is not.
/// </summary>
public static class PlainText
{
    public static bool IsPlain(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) || IsInvisibleFormatting(c))
                return false;
        }
        return true;
    }

    private static bool IsInvisibleFormatting(char c) => c is
        '\u061C' or '\u200E' or '\u200F' // Arabic letter mark, left-to-right and right-to-left marks
        or (>= '\u202A' and <= '\u202E') // embeddings and overrides
        or (>= '\u2066' and <= '\u2069') // isolates
        or '\u2028' or '\u2029'          // line and paragraph separators
        or '\uFEFF';                     // byte-order mark, zero-width no-break space
}

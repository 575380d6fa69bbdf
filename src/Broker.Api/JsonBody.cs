using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Broker.Api;

/// <summary>What reading a body found, for <see cref="ApiChecks"/>: a 400 to give now, or a 413 to give after authentication.</summary>
public sealed record BodyCheck(ProblemHttpResult? Invalid, bool TooLarge)
{
    public static readonly BodyCheck Fine = new(null, false);
}

/// <summary>A request body read by <see cref="JsonBody.ReadAsync{T}"/>; <see cref="Value"/> is set only when it is usable.</summary>
public sealed record JsonBody<T>(T? Value, BodyCheck Check) where T : class;

/// <summary>
/// Reads JSON bodies by hand rather than through parameter binding, so that a bad body becomes a
/// problem the check sequence can place where docs/design.md §6 puts it (400 first, 413 after auth),
/// and so that no input can reach a 500. At most 64 KiB + 1 byte is ever read.
/// </summary>
public static class JsonBody
{
    /// <param name="validate">Field errors of a parsed body (camelCase paths); empty when it is valid.</param>
    /// <param name="rejectNulls">Refuse explicit nulls anywhere: in a PATCH a null would be ambiguous (unset or keep?).</param>
    /// <param name="freeText">A top-level member whose strings are passed on as they are (the upstream proxy's
    /// body); every other string must be <see cref="PlainText"/>.</param>
    public static async Task<JsonBody<T>> ReadAsync<T>(HttpRequest request, Func<T, IReadOnlyDictionary<string, string[]>>? validate = null,
        bool rejectNulls = false, string? freeText = null)
        where T : class
    {
        if (request.ContentLength > BrokerApiOptions.MaxJsonBodyBytes)
            return new(null, new BodyCheck(null, TooLarge: true));
        if (request.ContentType is { } type && !IsJson(type))
            return Invalid<T>("body", "must be application/json.");

        byte[]? bytes;
        try
        {
            bytes = await ReadLimitedAsync(request.Body, BrokerApiOptions.MaxJsonBodyBytes, request.HttpContext.RequestAborted);
        }
        catch (Exception e) when (ErrorResponses.IsClientFault(e))
        {
            // Malformed chunking or a body cut short: nothing usable arrived.
            return Invalid<T>("body", "could not be read (malformed or incomplete).");
        }
        if (bytes is null)
            return new(null, new BodyCheck(null, TooLarge: true));
        if (bytes.Length == 0)
            return Invalid<T>("body", "a JSON object is required.");
        // RFC 8259 §8.1: JSON text is UTF-8; the parser would otherwise meet the bad bytes only lazily.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            return Invalid<T>("body", "is not valid UTF-8.");

        T? value;
        try
        {
            using (var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 }))
            {
                if (rejectNulls && FirstNull(document.RootElement, "") is { } nullPath)
                    return Invalid<T>(nullPath, "must not be null; leave the member out to keep its value.");
                if (FirstUnplain(document.RootElement, "", freeText) is { } textPath)
                    return Invalid<T>(textPath, "must not contain control characters or bidirectional formatting characters.");
            }
            value = JsonSerializer.Deserialize<T>(bytes, ApiJson.Requests);
        }
        catch (JsonException e)
        {
            return Invalid<T>(Field(e), Describe(e));
        }
        catch (InvalidOperationException)
        {
            // A string escape that is no valid UTF-16 (a lone surrogate, "\ud800").
            return Invalid<T>("body", "holds a string that is not valid Unicode.");
        }
        if (value is null)
            return Invalid<T>("body", "a JSON object is required.");

        var errors = validate?.Invoke(value);
        return errors is { Count: > 0 }
            ? new(null, new BodyCheck(Problems.Invalid(errors), false))
            : new(value, BodyCheck.Fine);
    }

    private static JsonBody<T> Invalid<T>(string field, string message) where T : class =>
        new(null, new BodyCheck(Problems.Invalid(field, message), false));

    private static bool IsJson(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));

    /// <summary>The body, or null when it is longer than <paramref name="limit"/> (the rest is left unread).</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[limit + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            length += read;
        return length > limit ? null : buffer[..length];
    }

    /// <summary>The path of the first explicit null, or null when there is none.</summary>
    private static string? FirstNull(JsonElement element, string path) => element.ValueKind switch
    {
        JsonValueKind.Null => path.Length == 0 ? "body" : path,
        JsonValueKind.Object => element.EnumerateObject().Select(p => FirstNull(p.Value, Member(path, p.Name))).FirstOrDefault(p => p is not null),
        JsonValueKind.Array => element.EnumerateArray().Select((e, i) => FirstNull(e, $"{path}[{i}]")).FirstOrDefault(p => p is not null),
        _ => null,
    };

    /// <summary>The path of the first member name or string that is not <see cref="PlainText"/>, or null.</summary>
    private static string? FirstUnplain(JsonElement element, string path, string? freeText) => element.ValueKind switch
    {
        JsonValueKind.String => PlainText.IsPlain(element.GetString()!) ? null : path.Length == 0 ? "body" : path,
        JsonValueKind.Object => element.EnumerateObject()
            .Where(p => !(path.Length == 0 && p.Name == freeText))
            .Select(p => PlainText.IsPlain(p.Name) ? FirstUnplain(p.Value, Member(path, p.Name), null) : Member(path, "?"))
            .FirstOrDefault(p => p is not null),
        JsonValueKind.Array => element.EnumerateArray().Select((e, i) => FirstUnplain(e, $"{path}[{i}]", null)).FirstOrDefault(p => p is not null),
        _ => null,
    };

    private static string Member(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    /// <summary>The body path of the member a JSON error is about (<c>$.a.b</c> -> <c>a.b</c>).</summary>
    private static string Field(JsonException e) =>
        e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..]
        : e.Path is { Length: > 1 } indexed && indexed.StartsWith("$[", StringComparison.Ordinal) ? indexed[1..]
        : "body";

    // The serializer's own messages name .NET types; people get a plain sentence instead.
    private static string Describe(JsonException e) =>
        e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "is not a known member."
        : e.Message.Contains("could not be converted", StringComparison.Ordinal) ? "has the wrong type."
        : e.Message.Contains("duplicate", StringComparison.OrdinalIgnoreCase) ? "appears more than once."
        : "is not valid JSON.";
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Api;

/// <summary>
/// The JSON conventions of docs/design.md §6: camelCase members, a member with no value written as
/// <c>null</c> (never left out), times as ISO 8601 UTC strings. Requests are read strictly, so a
/// typo in a member name is a 400 instead of a silently ignored setting.
/// </summary>
public static class ApiJson
{
    /// <summary>Strict options for request bodies.</summary>
    public static readonly JsonSerializerOptions Requests = CreateRequestOptions();

    /// <summary>Applies the response conventions to the options minimal APIs write with.</summary>
    public static void ConfigureResponses(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new UtcTimeConverter());
    }

    private static JsonSerializerOptions CreateRequestOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            PropertyNameCaseInsensitive = false,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
            // Two values for one member: which one wins is a classic source of confusion, so neither does.
            AllowDuplicateProperties = false,
            NumberHandling = JsonNumberHandling.Strict,
            MaxDepth = 16,
        };
        options.Converters.Add(new UtcTimeConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Writes <c>2025-01-31T12:00:00.5Z</c>: UTC, with a fraction only when there is one.</summary>
    private sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
    }
}

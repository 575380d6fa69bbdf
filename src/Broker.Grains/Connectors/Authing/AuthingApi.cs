using System.Text.Json;
using Broker.Grains.Connectors.Api;

namespace Broker.Grains.Connectors.Authing;

/// <summary>
/// Authing's management and user APIs answer HTTP 200 with their own status in the body
/// (<c>{"statusCode": 401, "message": ..., "apiCode": ...}</c>); a 401 there is an access token the API
/// no longer takes, exactly as an HTTP 401 is elsewhere (docs/design.md §6, upstream proxy).
/// </summary>
public static class AuthingApi
{
    public static ApiFailure? Classify(int status, ReadOnlySpan<byte> body)
    {
        if (status is < 200 or > 299 || BodyStatus(body) is not { } reported)
            return BearerApi.Classify(status);
        return reported switch
        {
            >= 200 and <= 299 => null,
            401 => new ApiFailure(ApiFailureKind.TokenRejected, "401", "Authing refused the access token (statusCode 401 in the body)."),
            _ => new ApiFailure(ApiFailureKind.Failed, reported.ToString(System.Globalization.CultureInfo.InvariantCulture), $"Authing answered statusCode {reported} in the body."),
        };
    }

    private static int? BodyStatus(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isStatus = reader.ValueTextEquals("statusCode");
                reader.Read();
                if (isStatus)
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var code) ? code : null;
                reader.Skip();
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

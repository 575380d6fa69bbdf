using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Broker.Api.Provider;

/// <summary>Reads the form body of a back-channel request (RFC 6749 §3.2: application/x-www-form-urlencoded), at most
/// 64 KiB; anything else, or a form that cannot be read, is an <c>invalid_request</c>, never a 500.</summary>
public static class ProviderForms
{
    public static async Task<(IFormCollection? Form, ContentHttpResult? Refused)> ReadAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType || http.Request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) != true)
            return (null, ProviderErrors.Error(http, "invalid_request", "The body must be application/x-www-form-urlencoded."));
        if (http.Request.ContentLength > BrokerApiOptions.MaxJsonBodyBytes)
            return (null, ProviderErrors.Error(http, "invalid_request", "The body is too large.", StatusCodes.Status413PayloadTooLarge));
        try
        {
            return (await http.Request.ReadFormAsync(http.RequestAborted), null);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            return (null, ProviderErrors.Error(http, "invalid_request", "The form body could not be read."));
        }
    }
}

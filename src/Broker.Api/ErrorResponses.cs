using Broker.Grains.Runtime;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Broker.Api;

/// <summary>
/// What an unhandled exception becomes: problem+json on the API, a short HTML page on browser
/// routes; a trace id either way, the exception itself only in the log (ASP.NET's exception
/// handler middleware logs it with that trace id).
/// </summary>
internal static class ErrorResponses
{
    public static async Task WriteAsync(HttpContext http)
    {
        var exception = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (status, code, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "invalid_request", "The request could not be read."),
            // Two silos raced on the same grain state; the loser changed nothing and may simply retry.
            StateConflictException => (StatusCodes.Status503ServiceUnavailable, "conflict_retry", "The request collided with another; try again."),
            _ => (StatusCodes.Status500InternalServerError, "server_error", "Something went wrong on our side."),
        };
        if (status == StatusCodes.Status503ServiceUnavailable)
            http.Response.Headers.RetryAfter = "1";

        var result = IsBrowserRoute(http.Request.Path)
            ? (IResult)HtmlPages.Error(http, status, status >= 500 ? "Something went wrong" : "Bad request",
                status >= 500 ? "The sign-in service had a problem. Try again in a moment." : "The request could not be read.")
            : Problems.Create(status, code, title);
        await result.ExecuteAsync(http);
    }

    private static bool IsBrowserRoute(PathString path) =>
        path.StartsWithSegments("/t") || path.StartsWithSegments("/demo") || path.StartsWithSegments("/dev-idp");
}

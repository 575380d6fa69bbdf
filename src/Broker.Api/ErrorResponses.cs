using Orleans.Runtime;
using Orleans.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Api;

/// <summary>
/// What an unhandled exception or a bodiless error status becomes: problem+json on the API, a short
/// HTML page on browser routes; a trace id either way, the exception itself only in the log.
/// </summary>
internal static class ErrorResponses
{
    /// <summary>
    /// A request the server could not read: malformed chunking, a body cut short, a form or multipart
    /// body over the limits or malformed. The client's fault, so a 4xx, and logged below Error: any
    /// client can send these, and the error log is for what operators must act on (docs/design.md §5).
    /// </summary>
    public static bool IsClientFault(Exception? exception) =>
        exception is BadHttpRequestException or InvalidDataException or IOException;

    public static async Task WriteAsync(HttpContext http)
    {
        var exception = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (status, code, title) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (StatusCodes.Status413PayloadTooLarge, "payload_too_large", "The request is larger than this service reads."),
            BadHttpRequestException { StatusCode: >= 400 and < 500 } bad => (bad.StatusCode, "invalid_request", "The request could not be read."),
            _ when IsClientFault(exception) => (StatusCodes.Status400BadRequest, "invalid_request", "The request could not be read."),
            // Two activations of one grain raced (a membership change); the loser changed nothing and may retry.
            InconsistentStateException => (StatusCodes.Status503ServiceUnavailable, "conflict_retry", "The request collided with another; try again."),
            // The grain's silo died and the one retry (SiloGoneRetry) met it too, or the call timed out.
            OrleansMessageRejectionException or TimeoutException => (StatusCodes.Status503ServiceUnavailable, "silo_unavailable", "A server of this service went away; try again."),
            _ => (StatusCodes.Status500InternalServerError, "server_error", "Something went wrong on our side."),
        };
        if (IsClientFault(exception))
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Broker.Api.ClientFaults")
                .LogInformation("Unreadable request {Method} {Path}: {Error}", http.Request.Method, http.Request.Path, exception!.Message);
        }
        if (status == StatusCodes.Status503ServiceUnavailable)
            http.Response.Headers.RetryAfter = "1";
        await Result(http, status, code, title).ExecuteAsync(http);
    }

    /// <summary>Gives the statuses that routing answers without a body (no such route, wrong method) the
    /// same shape as every other error.</summary>
    public static async Task WriteStatusAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var (code, title) = http.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => ("not_found", "There is nothing here."),
            StatusCodes.Status405MethodNotAllowed => ("method_not_allowed", "This route does not take that method."),
            StatusCodes.Status415UnsupportedMediaType => ("unsupported_media_type", "The body's content type is not one this route reads."),
            var status when status >= 500 => ("server_error", "Something went wrong on our side."),
            _ => ("invalid_request", "The request could not be served."),
        };
        await Result(http, http.Response.StatusCode, code, title).ExecuteAsync(http);
    }

    private static IResult Result(HttpContext http, int status, string code, string title) =>
        RequestGuards.IsBrowserRoute(http.Request.Path)
            ? HtmlPages.Error(http, status, status >= 500 ? "Something went wrong" : status == 404 ? "Not found" : "Bad request",
                status >= 500 ? "The sign-in service had a problem. Try again in a moment."
                : status == 404 ? "There is no such page." : "The request could not be read.")
            : Problems.Create(status, code, title);
}

using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Broker.Api;

/// <summary>
/// RFC 9457 problem details with a stable <c>type</c> (<c>https://broker.dev/problems/{code}</c>) and
/// the same <c>code</c> as an extension member, so clients branch on a short string. Messages are for
/// people and may change; codes do not.
/// </summary>
public static class Problems
{
    public const string TypeRoot = "https://broker.dev/problems/";

    public static ProblemHttpResult Create(int status, string code, string title, string? detail = null, IDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails { Status = status, Type = TypeRoot + code, Title = title, Detail = detail };
        return TypedResults.Problem(WithCode(problem, code, extensions));
    }

    /// <summary>400 <c>invalid_request</c> with an <c>errors</c> map of field -> messages (camelCase body paths).</summary>
    public static ProblemHttpResult Invalid(IReadOnlyDictionary<string, string[]> errors)
    {
        var problem = new HttpValidationProblemDetails(errors.ToDictionary())
        {
            Status = StatusCodes.Status400BadRequest,
            Type = TypeRoot + "invalid_request",
            Title = "The request is invalid.",
        };
        return TypedResults.Problem(WithCode(problem, "invalid_request", null));
    }

    public static ProblemHttpResult Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult NotFound(string what) =>
        Create(StatusCodes.Status404NotFound, "not_found", $"No such {what}.");

    /// <summary>RFC 6749 §5.2's name for a code that is unknown, used or expired.</summary>
    public static ProblemHttpResult InvalidGrant() =>
        Create(StatusCodes.Status400BadRequest, "invalid_grant", "The code is unknown, expired or already used.");

    /// <summary>409 <c>limit_reached</c>: the tenant holds as many of something as it may (docs/design.md §5).</summary>
    public static ProblemHttpResult LimitReached(string detail) =>
        Create(StatusCodes.Status409Conflict, "limit_reached", "A limit of the tenant was reached.", detail);

    public static ProblemHttpResult TenantExists() =>
        Create(StatusCodes.Status409Conflict, "tenant_exists", "A tenant with this id already exists.");

    /// <summary>401 with <c>WWW-Authenticate</c> (RFC 6750 §3: no <c>error</c> when no token was sent, <c>invalid_token</c> otherwise).</summary>
    public static ProblemHttpResult Unauthorized(HttpContext http, bool tokenSent)
    {
        http.Response.Headers.WWWAuthenticate = tokenSent ? "Bearer error=\"invalid_token\"" : "Bearer";
        return Create(StatusCodes.Status401Unauthorized, "unauthorized",
            tokenSent ? "The bearer token is not valid here." : "A bearer token is required.");
    }

    public static ProblemHttpResult TooLarge() =>
        Create(StatusCodes.Status413PayloadTooLarge, "payload_too_large", $"The body is larger than {BrokerApiOptions.MaxJsonBodyBytes / 1024} KiB.");

    public static ProblemHttpResult RateLimited(HttpContext http, TimeSpan retryAfter)
    {
        http.Response.Headers.RetryAfter = RetryAfterSeconds(retryAfter);
        return Create(StatusCodes.Status429TooManyRequests, "rate_limited", "Too many requests; try again later.");
    }

    public static ProblemHttpResult SessionEnded(string reason) =>
        Create(StatusCodes.Status409Conflict, "session_ended", "The session has ended.", extensions: new Dictionary<string, object?> { ["endReason"] = reason });

    public static ProblemHttpResult UpstreamUnavailable(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "5";
        return Create(StatusCodes.Status503ServiceUnavailable, "upstream_unavailable", "The identity provider could not be reached; try again later.");
    }

    public static string RetryAfterSeconds(TimeSpan retryAfter) =>
        Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The id people quote to an operator; the same one the logs carry.</summary>
    public static string TraceId(HttpContext http) => Activity.Current?.Id ?? http.TraceIdentifier;

    private static ProblemDetails WithCode(ProblemDetails problem, string code, IDictionary<string, object?>? extensions)
    {
        problem.Extensions["code"] = code;
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
            problem.Extensions[key] = value;
        return problem;
    }
}

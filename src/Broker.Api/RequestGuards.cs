using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Api;

/// <summary>
/// Checks that run before routing, on what routing would otherwise rewrite or ignore (docs/design.md §5):
/// a request target with a dot segment, a repeated query parameter on a browser route, and which
/// listener a request came in on when operations have a port of their own.
/// </summary>
public static class RequestGuards
{
    /// <summary>What the management port serves, and what only it serves once it is configured.</summary>
    private static readonly PathString[] OperationsPaths = ["/metrics", "/healthz", "/readyz"];

    public static IApplicationBuilder UseRequestGuards(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<BrokerApiOptions>();
        return app.Use(next => http =>
        {
            if (HasDotSegment(http))
                return Refuse(http, "The request target has a dot segment ('.' or '..'); no path is rewritten into another.");
            if (IsBrowserRoute(http.Request.Path) && http.Request.Query.FirstOrDefault(p => p.Value.Count > 1).Key is { } repeated)
                return Refuse(http, $"The query parameter '{repeated}' is given more than once.");
            if (options.ManagementPort is { } port && !IsServedOn(http.Request.Path, managementListener: http.Connection.LocalPort == port))
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(http);
        });
    }

    /// <summary>Browser routes answer with HTML pages rather than problem+json.</summary>
    public static bool IsBrowserRoute(PathString path) =>
        path.StartsWithSegments("/t") || path.StartsWithSegments("/demo") || path.StartsWithSegments("/dev-idp");

    /// <summary>With a management port, /metrics is served only there, and nothing but operations is.</summary>
    private static bool IsServedOn(PathString path, bool managementListener) =>
        managementListener ? OperationsPaths.Contains(path) : path != "/metrics";

    /// <summary>
    /// Looks at the target as the client sent it: the server removes dot segments (decoded ones too)
    /// before routing, which would turn <c>/admin/tenants/x/api-keys/%2e%2e</c> into <c>/admin/tenants/x</c>.
    /// </summary>
    private static bool HasDotSegment(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw == "*")
            return false;
        var path = raw.AsSpan(0, raw.IndexOf('?') is var q and >= 0 ? q : raw.Length).ToString();
        // absolute-form (RFC 9112 §3.2.2): only the path counts.
        if (path.IndexOf("://", StringComparison.Ordinal) is var scheme and >= 0)
        {
            var slash = path.IndexOf('/', scheme + 3);
            path = slash < 0 ? "/" : path[slash..];
        }
        foreach (var segment in Uri.UnescapeDataString(path).Split('/', '\\'))
        {
            if (segment is "." or "..")
                return true;
        }
        return false;
    }

    private static Task Refuse(HttpContext http, string message) =>
        (IsBrowserRoute(http.Request.Path)
            ? (IResult)HtmlPages.Error(http, StatusCodes.Status400BadRequest, "Bad request", message)
            : Problems.Create(StatusCodes.Status400BadRequest, "invalid_request", "The request target is not acceptable.", message))
        .ExecuteAsync(http);
}

using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Broker.Api;

/// <summary>
/// The short pages browser routes show when they cannot send the user back to the app. Every value
/// is HTML-encoded; a page says what a person can do and carries the trace id, the detail goes to the log.
/// </summary>
public static class HtmlPages
{
    /// <param name="back">The application the person came from, when it is known for sure: a way back to it.</param>
    public static ContentHttpResult Error(HttpContext http, int status, string title, string message, AppLink? back = null)
    {
        var link = back is null ? "" : $"<p><a class=\"button\" data-testid=\"back-to-app\" href=\"{Encode(back.Url.AbsoluteUri)}\">Back to {Encode(back.Name)}</a></p>";
        var body = $"<p>{Encode(message)}</p>{link}<p class=\"trace\">Reference: <code data-testid=\"trace-id\">{Encode(Problems.TraceId(http))}</code></p>";
        return Page(http, status, title, body);
    }

    public static ContentHttpResult RateLimited(HttpContext http, TimeSpan retryAfter, AppLink? back = null)
    {
        http.Response.Headers.RetryAfter = Problems.RetryAfterSeconds(retryAfter);
        return Error(http, StatusCodes.Status429TooManyRequests, "Too many attempts", "Too many sign-in attempts from your network. Wait a minute and try again.", back);
    }

    /// <summary>One sign-in button per connection, for a login that did not name one (docs/design.md §6).</summary>
    public static ContentHttpResult ChooseConnection(HttpContext http, string displayName, IEnumerable<(string Id, string Name, string Url)> connections)
    {
        var body = new StringBuilder($"<p>Choose how to sign in to <strong>{Encode(displayName)}</strong>:</p><ul class=\"choices\">");
        foreach (var (id, name, url) in connections)
        {
            body.Append($"<li><a class=\"button\" data-testid=\"connection-{Encode(id)}\" href=\"{Encode(url)}\">Sign in with {Encode(name)}</a></li>");
        }
        return Page(http, StatusCodes.Status200OK, "Sign in", body.Append("</ul>").ToString());
    }

    public static ContentHttpResult Page(HttpContext http, int status, string title, string body)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{{Encode(title)}}</title>
            <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="/favicon.svg" type="image/svg+xml">
            <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
            .trace,.muted{color:#666;font-size:.9rem}ul.choices{list-style:none;padding:0}li{margin:.5rem 0}ul.links{padding-left:1.2rem}
            a.button{display:inline-block;padding:.5rem 1rem;border:1px solid #3b6ea5;border-radius:4px;text-decoration:none}</style></head>
            <body><h1>{{Encode(title)}}</h1>{{body}}</body></html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static string Encode(string? value) => WebUtility.HtmlEncode(value ?? "");
}

/// <summary>Where an error page sends a person back to: the application's name and the origin of its
/// registered return URLs (its home, not the callback, which would only fail again without a code).</summary>
public sealed record AppLink(string Name, Uri Url)
{
    /// <summary>The link for return URLs that all share one origin; null when they do not: which application
    /// the person came from is then not known.</summary>
    public static AppLink? For(string displayName, IEnumerable<string> returnUrls)
    {
        var origins = returnUrls.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var url) ? url.GetLeftPart(UriPartial.Authority) : null).Distinct().ToList();
        return origins is [{ } origin] ? new AppLink(displayName, new Uri(origin + "/")) : null;
    }
}

using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Broker.Api.DevIdp;

/// <summary>The dev IdP's sign-in form. Every value that came from the request is HTML-encoded.</summary>
internal static class DevIdpLoginPage
{
    public const string UsernameHint = "1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (for example alice).";

    /// <summary>Authorize-request parameters carried through the form as hidden fields.</summary>
    public static readonly string[] CarriedParameters =
        ["response_type", "client_id", "redirect_uri", "state", "scope", "nonce", "code_challenge", "code_challenge_method"];

    public static IResult Render(IReadOnlyDictionary<string, string?> request, string? username, string? error, int statusCode = 200)
    {
        var html = new StringBuilder();
        html.Append("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Development IdP</title><link rel="icon" href="/favicon.svg" type="image/svg+xml">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}
            input[type=text]{width:100%;padding:.5rem;font-size:1rem}button{padding:.5rem 1rem;margin:.75rem .5rem 0 0}
            .error{color:#b00020}.note{color:#555;font-size:.9rem}</style></head><body>
            <h1>Development IdP</h1>
            <p class="note">For demos and tests only. Any username is accepted (the same name is the same user); no password is asked.</p>
            """);
        html.Append("<p class=\"note\">Signing in to <code>").Append(Encode(request.GetValueOrDefault("client_id"))).Append("</code></p>");
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\">").Append(Encode(error)).Append("</p>");
        }

        html.Append("<form method=\"post\" action=\"authorize\">");
        foreach (var name in CarriedParameters)
        {
            if (request.GetValueOrDefault(name) is { } value)
            {
                html.Append("<input type=\"hidden\" name=\"").Append(name).Append("\" value=\"").Append(Encode(value)).Append("\">");
            }
        }

        // The hint is visible and is also the title, which browsers show when the pattern refuses a name. Deny
        // skips the form's checks: refusing needs no username.
        html.Append("<label for=\"username\">Username</label>")
            .Append("<input type=\"text\" id=\"username\" name=\"username\" autofocus required pattern=\"[a-z0-9][a-z0-9._\\-]{0,63}\" aria-describedby=\"username-hint\" title=\"").Append(UsernameHint).Append("\" value=\"")
            .Append(Encode(username)).Append("\">")
            .Append("<p class=\"note\" id=\"username-hint\">").Append(UsernameHint).Append("</p>")
            .Append("<button type=\"submit\" name=\"action\" value=\"approve\">Sign in</button>")
            .Append("<button type=\"submit\" name=\"action\" value=\"deny\" formnovalidate>Deny</button>")
            .Append("</form></body></html>");
        return new Page(html.ToString(), statusCode);
    }

    /// <summary>A page for requests that cannot be sent back to the client (no valid redirect_uri, RFC 6749 §4.1.2.1).</summary>
    public static IResult Error(string message) => new Page(
        $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Development IdP</title></head><body><h1>Development IdP</h1><p>{Encode(message)}</p></body></html>",
        StatusCodes.Status400BadRequest);

    /// <summary>A tiny SVG with the user's initial, so the demo has a picture URL that works offline.</summary>
    public static IResult Avatar(string username) =>
        Results.Content(
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><rect width=\"64\" height=\"64\" fill=\"#3b6ea5\"/><text x=\"32\" y=\"42\" font-size=\"32\" text-anchor=\"middle\" fill=\"#fff\" font-family=\"sans-serif\">{Encode(username[..1].ToUpperInvariant())}</text></svg>",
            "image/svg+xml");

    private static string Encode(string? value) => WebUtility.HtmlEncode(value ?? "");

    /// <summary>A page that runs no script and loads nothing from elsewhere, and that no other site may frame
    /// (a framed sign-in form is a clickjacking target). No form-action: the form's redirect chain ends at
    /// the tenant's app, wherever that is.</summary>
    private sealed class Page(string html, int statusCode) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers.CacheControl = "no-store";
            headers["Referrer-Policy"] = "no-referrer";
            return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, statusCode).ExecuteAsync(http);
        }
    }
}

using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary>
/// What <c>/</c> shows a person who opens the broker's address: what this is and where to go next (the demo
/// when it runs, the API reference, health). Also the icon every page names, so that no browser asks for a
/// /favicon.ico that is not there.
/// </summary>
public static class LandingPage
{
    // A key in a circle, in the colour of the pages' buttons.
    public const string Icon = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="16" fill="#3b6ea5"/><circle cx="12" cy="16" r="5" fill="none" stroke="#fff" stroke-width="3"/><path d="M17 16h9v4M22 16v3" fill="none" stroke="#fff" stroke-width="3"/></svg>""";

    public static IEndpointRouteBuilder MapLandingPage(this IEndpointRouteBuilder app, BrokerApiOptions options)
    {
        app.MapGet("/", (HttpContext http) => Render(http, options)).ExcludeFromDescription();
        app.MapGet("/favicon.svg", () => Results.Text(Icon, "image/svg+xml")).ExcludeFromDescription();
        // Browsers that ignore the link still ask for /favicon.ico: the same icon, not a 404.
        app.MapGet("/favicon.ico", () => Results.Text(Icon, "image/svg+xml")).ExcludeFromDescription();
        return app;
    }

    private static IResult Render(HttpContext http, BrokerApiOptions options)
    {
        var links = new StringBuilder();
        if (options.DemoEnabled)
            links.Append("""<li><a data-testid="demo-link" href="/demo/">Demo app</a>: sign in through the development IdP and watch a session refresh itself.</li>""");
        links.Append("""<li><a data-testid="docs-link" href="/docs">API reference</a>: every route, its body and its errors (the OpenAPI document is <a href="/openapi/v1.json">/openapi/v1.json</a>).</li>""");
        links.Append("""<li><a href="/healthz">Health</a> and <a href="/readyz">readiness</a>.</li>""");
        var body = $"""
            <p class="lead">A multi-tenant identity broker. Tenants register the OAuth 2.0 and OpenID Connect clients they hold
            with upstream providers (SJTU jAccount, ShangCloud, QQ, Authing, GitHub, any OIDC or OAuth 2.0 server); their apps
            send users to <code>/t/&lt;tenant&gt;/login</code> and get back a session whose tokens the broker keeps fresh.</p>
            <ul class="links">{links}</ul>
            <p class="muted">Operators create tenants with <code>POST /admin/tenants</code>; tenants manage their connections and
            sessions under <code>/api/tenants/&lt;tenant&gt;</code>. The API reference has the details.</p>
            """;
        return HtmlPages.Page(http, StatusCodes.Status200OK, "Broker", body);
    }
}

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Api.Demo;

/// <summary>
/// A tenant app served by the broker itself, for trying the broker out: the page at <c>/demo/</c>
/// is its front end, the other routes are its back end, which holds the demo tenant's API key and
/// talks to the broker's REST API over HTTP exactly as a real app would. The session id stays in
/// an HttpOnly cookie; the browser never sees the key or a token.
/// </summary>
public static class DemoEndpoints
{
    public const string HttpClientName = "Broker.Demo";
    private const string SessionCookie = "demo_session";

    public static IEndpointRouteBuilder MapDemoEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/demo").ExcludeFromDescription();
        group.MapGet("/", (DemoTenant demo) => DemoPage.Render(demo.ReturnUrl));
        group.MapPost("/exchange", ExchangeAsync);
        group.MapGet("/session", (HttpContext http, DemoTenant demo, IHttpClientFactory clients) =>
            CallBrokerAsync(http, demo, clients, HttpMethod.Get, ""));
        group.MapPost("/refresh", (HttpContext http, DemoTenant demo, IHttpClientFactory clients) =>
            CallBrokerAsync(http, demo, clients, HttpMethod.Post, "/refresh"));
        group.MapPost("/logout", Logout);
        return app;
    }

    /// <summary>Redeems the code the broker sent back and keeps the session id in a cookie.</summary>
    private static async Task<IResult> ExchangeAsync(HttpContext http, DemoTenant demo, IHttpClientFactory clients)
    {
        var body = await JsonBody.ReadAsync<ExchangeBody>(http.Request);
        if (body.Value?.Code is not { } code)
            return Results.BadRequest(new { error = "code is required" });
        using var request = await BrokerRequestAsync(demo, HttpMethod.Post, $"api/tenants/{DemoTenant.TenantId}/sessions/exchange", http.RequestAborted);
        request.Content = new StringContent(JsonSerializer.Serialize(new { code }), Encoding.UTF8, "application/json");
        using var response = await clients.CreateClient(HttpClientName).SendAsync(request, http.RequestAborted);
        var json = await response.Content.ReadAsStringAsync(http.RequestAborted);
        using var answer = response.IsSuccessStatusCode ? JsonDocument.Parse(json) : null;
        if (answer?.RootElement.TryGetProperty("sessionId", out var id) == true && id.GetString() is { } sessionId)
        {
            http.Response.Cookies.Append(SessionCookie, sessionId, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Lax,
                Path = "/demo",
                Secure = http.Request.IsHttps,
            });
        }
        return Results.Content(json, response.Content.Headers.ContentType?.ToString(), Encoding.UTF8, (int)response.StatusCode);
    }

    /// <summary>Forwards to <c>GET|POST /api/tenants/demo/sessions/{cookie}{suffix}</c> and answers what the broker said.</summary>
    private static async Task<IResult> CallBrokerAsync(HttpContext http, DemoTenant demo, IHttpClientFactory clients, HttpMethod method, string suffix)
    {
        // Signed out (no cookie, or a session the broker no longer knows) is a 200 with null: an answer the
        // page expects, where a 401 would be an error in the browser's console every time it asks.
        if (http.Request.Cookies[SessionCookie] is not { } sessionId || !Ids.IsSession(sessionId))
            return Results.Content("null", "application/json", Encoding.UTF8);
        using var request = await BrokerRequestAsync(demo, method, $"api/tenants/{DemoTenant.TenantId}/sessions/{sessionId}{suffix}", http.RequestAborted);
        using var response = await clients.CreateClient(HttpClientName).SendAsync(request, http.RequestAborted);
        var json = await response.Content.ReadAsStringAsync(http.RequestAborted);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            return Results.Content("null", "application/json", Encoding.UTF8);
        return Results.Content(json, response.Content.Headers.ContentType?.ToString(), Encoding.UTF8, (int)response.StatusCode);
    }

    /// <summary>Drops the cookie and sends the browser through the broker's logout route, which ends the session.</summary>
    private static IResult Logout(HttpContext http, DemoTenant demo)
    {
        var sessionId = http.Request.Cookies[SessionCookie];
        http.Response.Cookies.Delete(SessionCookie, new CookieOptions { Path = "/demo" });
        var query = new Dictionary<string, string?> { ["return_to"] = demo.ReturnUrl };
        if (Ids.IsSession(sessionId))
            query["session"] = sessionId;
        // 303: the browser follows a POST with a GET.
        http.Response.Headers.Location = QueryHelpers.AddQueryString($"/t/{DemoTenant.TenantId}/logout", query);
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static async Task<HttpRequestMessage> BrokerRequestAsync(DemoTenant demo, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await demo.ApiKeyAsync(cancellationToken));
        return request;
    }
}

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Broker.Grains;
using Broker.Grains.Connectors;
using Broker.Grains.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Api.Demo;

/// <summary>
/// A tenant app served by the broker itself, for trying the broker out: the page at <c>/demo/</c>
/// is its front end, the other routes are its back end. It signs in through the demo tenant's OpenID
/// Provider (the code flow with PKCE, its client secret kept here), then uses the <c>sid</c> of the
/// id_token with the tenant's REST API for the session and its upstream token, exactly as a real app
/// would, over HTTP. The session id and the id_token stay in HttpOnly cookies; the browser never sees
/// the key, the secret or an access token.
/// </summary>
public static class DemoEndpoints
{
    public const string HttpClientName = "Broker.Demo";
    private const string SessionCookie = "demo_session";
    private const string IdTokenCookie = "demo_id_token";
    private const string LoginCookie = "demo_login";

    public static IEndpointRouteBuilder MapDemoEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/demo").ExcludeFromDescription();
        group.MapGet("/", () => DemoPage.Render());
        group.MapGet("/signin", SignInAsync);
        group.MapGet("/callback", CallbackAsync);
        group.MapGet("/session", (HttpContext http, DemoTenant demo, IHttpClientFactory clients) =>
            CallBrokerAsync(http, demo, clients, HttpMethod.Get, ""));
        group.MapPost("/refresh", (HttpContext http, DemoTenant demo, IHttpClientFactory clients) =>
            CallBrokerAsync(http, demo, clients, HttpMethod.Post, "/refresh"));
        group.MapPost("/logout", Logout);
        return app;
    }

    /// <summary>Sends the browser to the OpenID Provider's /authorize, with this login's state, nonce and PKCE verifier in a cookie.</summary>
    private static async Task<IResult> SignInAsync(HttpContext http, DemoTenant demo)
    {
        // The tenant and its app client exist first: a seeding that failed at start (a busy or unready silo) is done now.
        await demo.CredentialsAsync(http.RequestAborted);
        var (state, nonce, verifier) = (RandomIds.New(), RandomIds.New(), Pkce.CreateVerifier());
        http.Response.Cookies.Append(LoginCookie, $"{state}.{nonce}.{verifier}", Cookie(http, TimeSpan.FromMinutes(10)));
        return Results.Redirect(QueryHelpers.AddQueryString($"/t/{DemoTenant.TenantId}/authorize", new Dictionary<string, string?>
        {
            ["client_id"] = DemoTenant.ClientId, ["redirect_uri"] = demo.RedirectUri, ["response_type"] = "code", ["scope"] = "openid profile email",
            ["state"] = state, ["nonce"] = nonce, ["code_challenge"] = Pkce.ComputeChallenge(verifier), ["code_challenge_method"] = "S256",
        }));
    }

    /// <summary>The provider's answer: checks state and issuer, redeems the code with the secret and verifier, checks the
    /// nonce, and keeps the id_token's <c>sid</c> (the broker session) and the id_token (the sign-out's hint) in cookies.</summary>
    private static async Task<IResult> CallbackAsync(HttpContext http, DemoTenant demo, IHttpClientFactory clients, BrokerGrainOptions options)
    {
        var query = http.Request.Query;
        var login = http.Request.Cookies[LoginCookie]?.Split('.');
        http.Response.Cookies.Delete(LoginCookie, new CookieOptions { Path = "/demo" });
        IResult Back(string error, string? description) => Results.Redirect(QueryHelpers.AddQueryString(demo.ReturnUrl,
            new Dictionary<string, string?> { ["error"] = error, ["error_description"] = description }));
        if (login is not [var state, var nonce, var verifier] || query["state"] != state)
            return Back("state_mismatch", "The sign-in came back with a state this app did not send; ignored.");
        if (query["iss"] != options.Issuer(DemoTenant.TenantId))
            return Back("issuer_mismatch", "The sign-in came back from another issuer; ignored.");
        if (query["error"].FirstOrDefault() is { } error)
            return Back(error, query["error_description"]);

        var credentials = await demo.CredentialsAsync(http.RequestAborted);
        using var response = await clients.CreateClient(HttpClientName).PostAsync($"t/{DemoTenant.TenantId}/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = query["code"].ToString(), ["redirect_uri"] = demo.RedirectUri, ["code_verifier"] = verifier,
            ["client_id"] = DemoTenant.ClientId, ["client_secret"] = credentials.ClientSecret,
        }), http.RequestAborted);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(http.RequestAborted));
        if (!response.IsSuccessStatusCode || answer.RootElement.GetProperty("id_token").GetString() is not { } idToken)
            return Back(answer.RootElement.TryGetProperty("error", out var code) ? code.GetString() ?? "server_error" : "server_error", "The code could not be redeemed.");
        // Received straight from the token endpoint over the back channel: its signature need not be checked again (OIDC Core §3.1.3.7).
        var claims = new JsonWebToken(idToken);
        if (claims.GetClaim("nonce").Value != nonce)
            return Back("nonce_mismatch", "The id_token is not for this sign-in; ignored.");
        http.Response.Cookies.Append(SessionCookie, claims.GetClaim("sid").Value, Cookie(http, null));
        http.Response.Cookies.Append(IdTokenCookie, idToken, Cookie(http, null));
        return Results.Redirect(demo.ReturnUrl);
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

    /// <summary>Drops the cookies and sends the browser to the OpenID Provider's end_session (RP-initiated logout),
    /// which ends the broker session and comes back to the page.</summary>
    private static IResult Logout(HttpContext http, DemoTenant demo)
    {
        var idToken = http.Request.Cookies[IdTokenCookie];
        http.Response.Cookies.Delete(SessionCookie, new CookieOptions { Path = "/demo" });
        http.Response.Cookies.Delete(IdTokenCookie, new CookieOptions { Path = "/demo" });
        // 303: the browser follows a POST with a GET.
        http.Response.Headers.Location = idToken is null
            ? demo.ReturnUrl
            : QueryHelpers.AddQueryString($"/t/{DemoTenant.TenantId}/end_session", new Dictionary<string, string?>
            {
                ["id_token_hint"] = idToken, ["post_logout_redirect_uri"] = demo.ReturnUrl,
            });
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static CookieOptions Cookie(HttpContext http, TimeSpan? maxAge) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Path = "/demo",
        Secure = http.Request.IsHttps,
        MaxAge = maxAge,
    };

    private static async Task<HttpRequestMessage> BrokerRequestAsync(DemoTenant demo, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await demo.ApiKeyAsync(cancellationToken));
        return request;
    }
}

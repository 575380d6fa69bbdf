using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Browser.Tests;

/// <summary>
/// An ASP.NET Core app that signs its users in with ASP.NET Core's own OpenID Connect handler, configured as its
/// documentation says for any OpenID Provider (docs/oidc.md shows the same lines): the broker tenant is the authority.
/// Pages: <c>/</c> (the user's claims, signing in first), <c>/refresh</c> (the saved refresh token exchanged at the
/// token endpoint), <c>/logout</c> (local and RP-initiated sign-out), <c>/signed-out</c>.
/// </summary>
internal sealed class AspNetCoreRelyingParty : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AspNetCoreRelyingParty(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<AspNetCoreRelyingParty> StartAsync(string authority, string clientId, string clientSecret, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddHttpClient();
        builder.Services
            .AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie()
            .AddOpenIdConnect(o =>
            {
                o.Authority = authority;
                o.ClientId = clientId;
                o.ClientSecret = clientSecret;
                o.ResponseType = "code";
                o.ResponseMode = "query";
                o.UsePkce = true;
                o.SaveTokens = true;
                o.GetClaimsFromUserInfoEndpoint = true;
                o.MapInboundClaims = false;
                o.Scope.Clear();
                foreach (var scope in new[] { "openid", "profile", "email", "offline_access" })
                    o.Scope.Add(scope);
                o.ClaimActions.MapUniqueJsonKey("connection", "connection");
                o.TokenValidationParameters.NameClaimType = "name";
                // Loopback http in the test: the handler's own cookies must not demand https.
                o.RequireHttpsMetadata = false;
                o.CorrelationCookie.SameSite = SameSiteMode.Lax;
                o.NonceCookie.SameSite = SameSiteMode.Lax;
            });
        var app = builder.Build();
        app.UseAuthentication();
        app.MapGet("/", (HttpContext http) => http.User.Identity?.IsAuthenticated != true
            ? Results.Challenge()
            : Page(string.Join("", http.User.Claims.Select(c => $"<p data-testid=\"claim-{WebUtility.HtmlEncode(c.Type)}\">{WebUtility.HtmlEncode(c.Value)}</p>"))));
        app.MapGet("/refresh", async (HttpContext http, IHttpClientFactory clients) =>
        {
            var refreshToken = await http.GetTokenAsync("refresh_token");
            using var response = await clients.CreateClient().PostAsync(authority + "/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken ?? "", ["client_id"] = clientId, ["client_secret"] = clientSecret,
            }));
            var body = await response.Content.ReadFromJsonAsync<JsonObject>();
            var rotated = body?["refresh_token"]?.GetValue<string>() is { } next && next != refreshToken;
            return Page($"<p data-testid=\"refresh-status\">{(int)response.StatusCode}</p><p data-testid=\"rotated\">{rotated}</p>");
        });
        app.MapGet("/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            await http.SignOutAsync(OpenIdConnectDefaults.AuthenticationScheme, new AuthenticationProperties { RedirectUri = "/signed-out" });
        });
        app.MapGet("/signed-out", () => Page("<p data-testid=\"signed-out\">signed out</p>"));
        await app.StartAsync();
        return new AspNetCoreRelyingParty(app, new Uri($"http://127.0.0.1:{port}/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static IResult Page(string body) => Results.Content($"<!doctype html><html><body>{body}</body></html>", "text/html");
}

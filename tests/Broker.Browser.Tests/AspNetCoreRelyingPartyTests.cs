using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Broker.Testing;
using Broker.Testing.Processes;
using Broker.Testing.Upstreams;
using Microsoft.Playwright;

namespace Broker.Browser.Tests;

/// <summary>
/// The broker's OpenID Provider with a relying party nobody here wrote: an ASP.NET Core app using
/// Microsoft.AspNetCore.Authentication.OpenIdConnect, driven in Chromium. A person signs in through the dev IdP,
/// the app reads the claims (id_token and userinfo), refreshes, and signs out (RP-initiated logout ending the broker
/// session); then signs in again through an upstream fake OIDC provider chosen on the connection chooser.
/// </summary>
public sealed class AspNetCoreRelyingPartyTests : IAsyncLifetime
{
    private SiloProcess _silo = null!;
    private FakeOidcProvider _upstream = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _silo = await BrowserSetup.StartDevelopmentSiloAsync();
        _upstream = await FakeOidcProvider.StartAsync(TimeProvider.System);
        _playwright = await Playwright.CreateAsync();
        _browser = await BrowserSetup.LaunchChromiumAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _upstream.DisposeAsync();
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task An_aspnetcore_app_signs_in_through_the_dev_idp_and_an_upstream_fake_reads_claims_refreshes_and_signs_out()
    {
        var rpPort = FreePorts.Next();
        using var admin = _silo.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SiloProcess.AdminToken);
        var tenant = "rp-" + Guid.NewGuid().ToString("N")[..8];
        (await admin.PostAsJsonAsync("/admin/tenants", new { id = tenant, displayName = "RP test", returnUrls = Array.Empty<string>() })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/api/tenants/{tenant}/connections/dev", new { type = "dev", clientId = "rp", clientSecret = "dev-secret", displayName = "Dev IdP" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/api/tenants/{tenant}/connections/upstream", new
        {
            type = "oidc", clientId = _upstream.ClientId, clientSecret = _upstream.ClientSecret, issuer = _upstream.Issuer, displayName = "Fake upstream",
        })).EnsureSuccessStatusCode();
        using var registered = await admin.PutAsJsonAsync($"/api/tenants/{tenant}/clients/aspnet", new
        {
            redirectUris = new[] { $"http://127.0.0.1:{rpPort}/signin-oidc" },
            postLogoutRedirectUris = new[] { $"http://127.0.0.1:{rpPort}/signout-callback-oidc" },
            tokenEndpointAuthMethod = "client_secret_post", // what the ASP.NET Core handler sends
            offlineAccess = true,
        });
        registered.EnsureSuccessStatusCode();
        var secret = (await registered.Content.ReadFromJsonAsync<JsonObject>())!["clientSecret"]!.GetValue<string>();
        await using var app = await AspNetCoreRelyingParty.StartAsync(new Uri(_silo.BaseAddress, $"/t/{tenant}").ToString(), "aspnet", secret, rpPort);
        var page = await BrowserSetup.NewPageAsync(_browser);

        // Through the dev IdP: the chooser, the IdP's form, back in the app with the claims.
        await page.GotoAsync(app.Address.ToString());
        await page.ClickAsync("text=Dev IdP");
        await page.WaitForURLAsync("**/dev-idp/**");
        await page.FillAsync("#username", "alice");
        await page.ClickAsync("button[value=approve]");
        await page.WaitForURLAsync(app.Address + "");
        var sub = await page.GetByTestId("claim-sub").InnerTextAsync();
        Assert.StartsWith("usr_", sub);
        Assert.Equal("alice@example.com", await page.GetByTestId("claim-email").InnerTextAsync());
        Assert.Equal("dev", await page.GetByTestId("claim-connection").InnerTextAsync()); // from userinfo
        var sid = await page.GetByTestId("claim-sid").InnerTextAsync();

        await page.GotoAsync(new Uri(app.Address, "/refresh").ToString());
        Assert.Equal("200", await page.GetByTestId("refresh-status").InnerTextAsync());
        Assert.Equal("True", await page.GetByTestId("rotated").InnerTextAsync());

        await page.GotoAsync(new Uri(app.Address, "/logout").ToString());
        await page.WaitForURLAsync("**/signed-out");
        var session = await admin.GetFromJsonAsync<JsonObject>($"/api/tenants/{tenant}/sessions/{sid}");
        Assert.Equal(("ended", "logout"), (session!["status"]!.GetValue<string>(), session["endReason"]!.GetValue<string>()));

        // Again, through the upstream fake (it approves at once).
        await page.GotoAsync(app.Address.ToString());
        await page.ClickAsync("text=Fake upstream");
        await page.WaitForURLAsync(app.Address + "");
        Assert.Equal("upstream", await page.GetByTestId("claim-connection").InnerTextAsync());
        Assert.Equal(_upstream.User.Email, await page.GetByTestId("claim-email").InnerTextAsync());
        Assert.NotEqual(sub, await page.GetByTestId("claim-sub").InnerTextAsync()); // another identity, another user
    }
}

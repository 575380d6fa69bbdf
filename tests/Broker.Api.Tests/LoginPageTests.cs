using System.Net;
using System.Text.RegularExpressions;
using Broker.Api.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Api.Tests;

/// <summary>What /t/{tenant}/login does before it redirects: choose the connection and the return URL, or show a page.</summary>
public sealed partial class LoginPageTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task With_several_connections_and_none_named_a_page_offers_one_button_each()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant, "staff");
        await api.PutDevConnectionAsync(tenant, "students");

        using var page = await api.GetAsync(QueryHelpers.AddQueryString($"/t/{tenant.Id}/login", new Dictionary<string, string?> { ["return_to"] = tenant.ReturnUrl, ["state"] = "<s>" }));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<s>", html);
        var links = ButtonLink().Matches(html).ToDictionary(m => m.Groups[1].Value, m => System.Net.WebUtility.HtmlDecode(m.Groups[2].Value));
        Assert.Equal(["staff", "students"], links.Keys.Order());
        // Each button is a login that names its connection and carries return_to and state along.
        using var chosen = await api.GetAsync(links["students"]);
        Assert.Equal(HttpStatusCode.Redirect, chosen.StatusCode);
        Assert.StartsWith("http://localhost/dev-idp/authorize", chosen.Headers.Location!.AbsoluteUri);
        var back = await api.ApproveAtDevIdpAsync(chosen.Headers.Location!, "erin");
        using var toApp = await api.GetAsync(back.PathAndQuery);
        Assert.Equal("<s>", TestApi.Param(toApp.Headers.Location!, "state"));
    }

    [Fact]
    public async Task The_chooser_labels_each_button_with_its_display_name_or_the_providers_name()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant, "dev");
        using (var named = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/staff", tenant.ApiKey,
            new { type = "dev", clientId = "c", clientSecret = "s", displayName = "  Staff <account>  " }))
        {
            Assert.Equal(HttpStatusCode.Created, named.StatusCode);
            Assert.Equal("Staff <account>", (await TestApi.ReadJsonAsync(named))["displayName"]!.GetValue<string>());
        }
        using (var read = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections/dev", tenant.ApiKey))
            Assert.Null((await TestApi.ReadJsonAsync(read))["displayName"]); // not set: null, and the chooser names the provider

        using var page = await api.GetAsync($"/t/{tenant.Id}/login");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Contains("Sign in with the development IdP</a>", html);
        Assert.Contains("Sign in with Staff &lt;account&gt;</a>", html);
        Assert.DoesNotContain("(dev)", html);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("line\nbreak")]
    public async Task A_display_name_that_is_blank_too_long_or_has_control_characters_is_a_400_and_changes_nothing(string displayName)
    {
        var tenant = await api.CreateTenantAsync();
        foreach (var name in new[] { displayName, new string('x', 101) })
        {
            var problem = await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/staff", tenant.ApiKey,
                new { type = "dev", clientId = "c", clientSecret = "s", displayName = name }), HttpStatusCode.BadRequest);
            Assert.Contains("displayName", problem.ToJsonString());
        }
        using var list = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", tenant.ApiKey);
        Assert.Empty((await TestApi.ReadJsonAsync(list))["items"]!.AsArray());
    }

    [Fact]
    public async Task With_one_connection_and_one_return_url_both_may_be_left_out()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);

        var back = await api.SignInAsync(tenant, appState: null, returnTo: null);

        Assert.Equal(tenant.ReturnUrl, back.GetLeftPart(UriPartial.Path));
        Assert.NotNull(TestApi.Param(back, "code"));
        Assert.Null(TestApi.Param(back, "state"));
    }

    [Fact]
    public async Task Return_to_is_required_when_the_tenant_has_several()
    {
        var tenant = await api.CreateTenantAsync("https://a.example/cb", "https://b.example/cb");
        await api.PutDevConnectionAsync(tenant);
        await TestApi.AssertErrorPageAsync(await api.GetAsync($"/t/{tenant.Id}/login"), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Redirect, (await api.GetAsync($"/t/{tenant.Id}/login?return_to=https%3A%2F%2Fb.example%2Fcb")).StatusCode);
    }

    [Fact]
    public async Task Unknown_tenants_and_connections_get_a_404_page()
    {
        var tenant = await api.CreateTenantAsync();
        await TestApi.AssertErrorPageAsync(await api.GetAsync($"/t/{tenant.Id}/login"), HttpStatusCode.NotFound); // no connection at all
        await api.PutDevConnectionAsync(tenant);
        await TestApi.AssertErrorPageAsync(await api.GetAsync($"/t/{tenant.Id}/login?connection=nope"), HttpStatusCode.NotFound);
        await TestApi.AssertErrorPageAsync(await api.GetAsync($"/t/{TestApi.NewId()}/login"), HttpStatusCode.NotFound);
        await TestApi.AssertErrorPageAsync(await api.GetAsync($"/t/{TestApi.NewId()}/callback?state={new string('A', 43)}"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/t/Bad_Tenant/login")]
    [InlineData("/t/{tenant}/login?connection=Bad_Connection")]
    [InlineData("/t/{tenant}/logout?session=short")]
    [InlineData("/t/Bad_Tenant/callback?state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Malformed_ids_get_a_400_page(string path)
    {
        var tenant = await api.CreateTenantAsync();
        await TestApi.AssertErrorPageAsync(await api.GetAsync(path.Replace("{tenant}", tenant.Id, StringComparison.Ordinal)), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_deleted_tenant_gets_a_404_page()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{tenant.Id}", TestApi.Admin);
        await TestApi.AssertErrorPageAsync(await api.GetAsync($"/t/{tenant.Id}/login"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("login_hint=")]
    [InlineData("login_hint=a%0Ab")]
    [InlineData("prompt=sometimes")]
    [InlineData("prompt=none%20login")]
    [InlineData("prompt=login%20login")]
    [InlineData("ui_locales=en_US")]
    [InlineData("max_age=-1")]
    [InlineData("max_age=soon")]
    [InlineData("scope=a%22b")]
    [InlineData("scope=repo&scope=user")]
    public async Task A_malformed_login_hint_is_a_400_page_naming_it(string query)
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);

        using var page = await api.GetAsync($"/t/{tenant.Id}/login?{query}");

        await TestApi.AssertErrorPageAsync(page, HttpStatusCode.BadRequest);
        Assert.Contains(query.Split('=')[0], await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_extra_scope_goes_upstream_only_when_the_connection_allows_it_and_the_chooser_carries_the_hints_along()
    {
        var tenant = await api.CreateTenantAsync();
        using (var put = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/dev", tenant.ApiKey,
            new { type = "dev", clientId = $"client-{tenant.Id}", clientSecret = "dev-secret", allowedExtraScopes = new[] { "calendar" } }))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            Assert.Equal("calendar", (await TestApi.ReadJsonAsync(put))["allowedExtraScopes"]![0]!.GetValue<string>());
        }

        using var allowed = await api.GetAsync($"/t/{tenant.Id}/login?scope=calendar&prompt=login");
        Assert.Equal(HttpStatusCode.Redirect, allowed.StatusCode);
        Assert.EndsWith(" calendar", TestApi.Param(allowed.Headers.Location!, "scope"));

        using var refused = await api.GetAsync($"/t/{tenant.Id}/login?scope=calendar%20mail");
        await TestApi.AssertErrorPageAsync(refused, HttpStatusCode.BadRequest);
        Assert.Contains("&#39;mail&#39;", await refused.Content.ReadAsStringAsync());

        await api.PutDevConnectionAsync(tenant, "second");
        using var chooser = await api.GetAsync($"/t/{tenant.Id}/login?scope=calendar&login_hint=ada");
        var links = ButtonLink().Matches(await chooser.Content.ReadAsStringAsync()).Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[2].Value)).ToList();
        Assert.All(links, link => Assert.Contains("scope=calendar", link));
        Assert.All(links, link => Assert.Contains("login_hint=ada", link));
    }

    [Fact]
    public async Task A_refused_login_reaches_the_app_with_the_providers_error_description()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        using var login = await api.GetAsync($"/t/{tenant.Id}/login?state=s1");
        var back = await api.ApproveAtDevIdpAsync(login.Headers.Location!, "", action: "deny");

        using var toApp = await api.GetAsync(back.PathAndQuery);

        Assert.Equal(HttpStatusCode.Redirect, toApp.StatusCode);
        var location = toApp.Headers.Location!;
        Assert.Equal(tenant.ReturnUrl, location.GetLeftPart(UriPartial.Path));
        Assert.Equal(("access_denied", "The user denied the request.", "s1"),
            (TestApi.Param(location, "error"), TestApi.Param(location, "error_description"), TestApi.Param(location, "state")));
    }

    [Fact]
    public async Task An_error_page_leads_back_to_the_application_when_it_is_known_and_nowhere_when_it_is_not()
    {
        var tenant = await api.CreateTenantAsync("https://app.example/auth/done");
        await api.PutDevConnectionAsync(tenant);
        var stale = $"/t/{tenant.Id}/callback?state={new string('A', 43)}";

        foreach (var path in new[] { $"/t/{tenant.Id}/login?connection=nope", stale })
        {
            using var page = await api.GetAsync(path);
            Assert.True(page.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, path);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains($"href=\"https://app.example/\">Back to App {tenant.Id}</a>", html); // the app's home, not its callback
        }

        // Two applications' return URLs: which one the person came from is not known, so no link.
        var shared = await api.CreateTenantAsync("https://one.example/cb", "https://two.example/cb");
        await api.PutDevConnectionAsync(shared);
        using var unknown = await api.GetAsync($"/t/{shared.Id}/callback?state={new string('A', 43)}");
        Assert.DoesNotContain("back-to-app", await unknown.Content.ReadAsStringAsync());
        // A return_to that is not registered gets no link either: it is exactly what must not be followed.
        using var foreign = await api.GetAsync($"/t/{tenant.Id}/login?return_to=https%3A%2F%2Fevil.example%2F");
        Assert.DoesNotContain("back-to-app", await foreign.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("data-testid=\"connection-([a-z0-9-]+)\" href=\"([^\"]+)\"")]
    private static partial Regex ButtonLink();

    public void Dispose() => api.Dispose();
}

using System.Net.Http.Json;
using Broker.Testing.Processes;
using Microsoft.Playwright;

namespace Broker.Browser.Tests;

/// <summary>
/// The pages a person sees — the landing page, the API reference, the connection chooser, the demo —
/// at a desktop and a phone width: each renders what it should with no console error and no failed
/// request, and leaves a screenshot (in the temp directory) for a person to look at.
/// </summary>
public sealed class PagesTests : IAsyncLifetime
{
    private SiloProcess _silo = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public static TheoryData<string, int, int> Screens => new() { { "desktop", 1280, 800 }, { "phone", 390, 844 } };

    public async Task InitializeAsync()
    {
        _silo = await BrowserSetup.StartDevelopmentSiloAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await BrowserSetup.LaunchChromiumAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _silo.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Screens))]
    public async Task The_landing_page_says_what_this_is_and_links_on(string screen, int width, int height)
    {
        var (page, problems) = await OpenAsync(width, height, "/");

        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Broker");
        await Assertions.Expect(page.GetByTestId("demo-link")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("docs-link")).ToBeVisibleAsync();
        await ShotAsync(page, $"landing-{screen}");
        Assert.Empty(problems);
    }

    [Theory]
    [MemberData(nameof(Screens))]
    public async Task The_api_reference_shows_every_route_from_the_document(string screen, int width, int height)
    {
        var (page, problems) = await OpenAsync(width, height, "/docs");

        // Summaries come from the OpenAPI document, so this text on the page means it was read and rendered.
        // (On a phone the list of routes is behind the menu button: there, attached rather than visible.)
        await Assertions.Expect(page.Locator("a[href='#tag/admin/POST/admin/tenants']").First).ToBeAttachedAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByText("Create a tenant; the answer holds its first API key", new() { Exact = false }).First).ToBeAttachedAsync();
        await Assertions.Expect(page.GetByText("Redeem a hand-off code", new() { Exact = false }).First).ToBeAttachedAsync();
        await ShotAsync(page, $"docs-{screen}");
        Assert.Empty(problems);
    }

    [Theory]
    [MemberData(nameof(Screens))]
    public async Task The_chooser_names_each_connection_for_a_person(string screen, int width, int height)
    {
        using var http = _silo.CreateClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", SiloProcess.AdminToken);
        var tenant = "t-" + Guid.NewGuid().ToString("N")[..10];
        var created = await http.PostAsJsonAsync("/admin/tenants", new { id = tenant, displayName = "Acme", returnUrls = new[] { "https://app.example/done" } });
        var key = (await created.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["apiKey"]!.GetValue<string>();
        http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        (await http.PutAsJsonAsync($"/api/tenants/{tenant}/connections/dev", new { type = "dev", clientId = "c" })).EnsureSuccessStatusCode();
        (await http.PutAsJsonAsync($"/api/tenants/{tenant}/connections/staff", new { type = "dev", clientId = "c", displayName = "Acme staff account" })).EnsureSuccessStatusCode();

        var (page, problems) = await OpenAsync(width, height, $"/t/{tenant}/login");

        await Assertions.Expect(page.GetByTestId("connection-dev")).ToHaveTextAsync("Sign in with the development IdP");
        await Assertions.Expect(page.GetByTestId("connection-staff")).ToHaveTextAsync("Sign in with Acme staff account");
        await ShotAsync(page, $"chooser-{screen}");
        Assert.Empty(problems);
    }

    [Theory]
    [MemberData(nameof(Screens))]
    public async Task The_demo_signs_in_shows_local_times_and_confirms_the_sign_out(string screen, int width, int height)
    {
        var (page, problems) = await OpenAsync(width, height, "/demo/");
        await Assertions.Expect(page.GetByTestId("signed-out")).ToBeVisibleAsync();
        await ShotAsync(page, $"demo-signed-out-{screen}");

        await page.ClickAsync("[data-testid=sign-in]");
        await page.FillAsync("#username", "alice");
        await ShotAsync(page, $"dev-idp-{screen}");
        await page.ClickAsync("button[value=approve]");
        await Assertions.Expect(page.GetByTestId("signed-in")).ToBeVisibleAsync();
        // A person's clock, not a machine's: no ISO timestamp with seven fractional digits.
        var expiresAt = await page.GetByTestId("token-expires-at").InnerTextAsync();
        Assert.DoesNotMatch(@"\d{4}-\d{2}-\d{2}T|:\d{2}\.\d", expiresAt);
        Assert.Matches(@"\d{1,2}:\d{2}:\d{2}", expiresAt);
        await ShotAsync(page, $"demo-signed-in-{screen}");

        await page.ClickAsync("[data-testid=sign-out]");
        await Assertions.Expect(page.GetByTestId("signed-out-notice")).ToBeVisibleAsync();
        await ShotAsync(page, $"demo-after-sign-out-{screen}");
        Assert.Empty(problems);
    }

    /// <summary>Opens a page at a size, collecting console errors and failed requests from then on.</summary>
    private async Task<(IPage Page, List<string> Problems)> OpenAsync(int width, int height, string path)
    {
        var page = await BrowserSetup.NewPageAsync(_browser, new() { ViewportSize = new() { Width = width, Height = height } });
        var problems = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") problems.Add($"console: {message.Text}"); };
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        page.RequestFailed += (_, request) => problems.Add($"failed: {request.Url} {request.Failure}");
        page.Response += (_, response) => { if (response.Status >= 400) problems.Add($"{response.Status}: {response.Url}"); };
        await page.GotoAsync(new Uri(_silo.BaseAddress, path).ToString());
        return (page, problems);
    }

    private static Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "broker-pages", name + ".png"), FullPage = true });
}

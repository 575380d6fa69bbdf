using Broker.Testing.Processes;
using Microsoft.Playwright;

namespace Broker.Browser.Tests;

/// <summary>
/// A person's first five minutes: `dotnet run` with no configuration, open the demo app, sign in at
/// the development IdP, see the profile and the token's expiry, refresh, sign out. Debian's Chromium,
/// driven by Playwright, against a real silo process.
/// </summary>
public sealed class DemoClickThroughTests : IAsyncLifetime
{
    private SiloProcess _silo = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

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

    [Fact]
    public async Task A_person_signs_in_through_the_dev_idp_sees_the_session_refreshes_and_signs_out()
    {
        var page = await BrowserSetup.NewPageAsync(_browser);
        await page.GotoAsync(new Uri(_silo.BaseAddress, "/demo/").ToString());
        await Expect(page, "signed-out");

        await page.ClickAsync("[data-testid=sign-in]");
        await page.WaitForURLAsync("**/dev-idp/**");
        await page.FillAsync("#username", "alice");
        await page.ClickAsync("button[value=approve]");

        await page.WaitForURLAsync("**/demo/**");
        await Expect(page, "signed-in");
        await Assertions.Expect(page.GetByTestId("user-subject")).ToHaveTextAsync("alice");
        await Assertions.Expect(page.GetByTestId("session-status")).ToHaveTextAsync("active");
        await Assertions.Expect(page.GetByTestId("token-expires-in")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+ s$"));
        Assert.Equal("not yet", await page.GetByTestId("refreshed-at").InnerTextAsync());

        await page.ClickAsync("[data-testid=refresh-now]");
        await Assertions.Expect(page.GetByTestId("refreshed-at")).Not.ToHaveTextAsync("not yet");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "broker-demo-signed-in.png") });

        await page.ClickAsync("[data-testid=sign-out]");
        await Expect(page, "signed-out");
    }

    [Fact]
    public async Task A_person_who_denies_at_the_dev_idp_needs_no_username_and_is_told_why_back_in_the_demo()
    {
        var page = await BrowserSetup.NewPageAsync(_browser);
        await page.GotoAsync(new Uri(_silo.BaseAddress, "/demo/").ToString());
        await page.ClickAsync("[data-testid=sign-in]");
        await page.WaitForURLAsync("**/dev-idp/**");
        // The pattern's hint is on the page, and the browser shows it when a name does not match.
        Assert.Contains("lower-case", await page.InnerTextAsync("#username-hint"));
        Assert.Contains("lower-case", await page.GetAttributeAsync("#username", "title"));

        await page.ClickAsync("button[value=deny]"); // the username left empty

        await page.WaitForURLAsync("**/demo/**");
        await Expect(page, "signed-out");
        await Assertions.Expect(page.GetByTestId("error")).ToContainTextAsync("access_denied");
    }

    private static Task Expect(IPage page, string testId) => Assertions.Expect(page.GetByTestId(testId)).ToBeVisibleAsync();

}

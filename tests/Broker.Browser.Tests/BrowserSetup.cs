using Broker.Testing;
using Broker.Testing.Processes;
using Microsoft.Playwright;

namespace Broker.Browser.Tests;

/// <summary>What every browser test starts with: a silo in Development (demo, dev IdP) on a port of its own,
/// and Debian's Chromium kept off the (closed) network.</summary>
internal static class BrowserSetup
{
    public static Task<SiloProcess> StartDevelopmentSiloAsync(IDictionary<string, string?>? environment = null)
    {
        var port = FreePorts.Next();
        var settings = new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Broker__PublicBaseUrl"] = $"http://127.0.0.1:{port}/" };
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
            settings[key] = value;
        return SiloProcess.StartAsync(settings, "--urls", $"http://127.0.0.1:{port}");
    }

    // What a page waits for at most (a navigation, an element, an expectation): generous, since a test asserts what
    // happens, not how fast; a full run beside a build once took over 30 s (Playwright's default) for one redirect.
    private const float PatienceMs = 120_000;

    /// <summary>A page with the suite's patience for navigations and elements.</summary>
    public static async Task<IPage> NewPageAsync(IBrowser browser, BrowserNewPageOptions? options = null)
    {
        var page = await browser.NewPageAsync(options);
        page.SetDefaultTimeout(PatienceMs);
        page.SetDefaultNavigationTimeout(PatienceMs);
        return page;
    }

    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright)
    {
        Assertions.SetDefaultExpectTimeout(PatienceMs);
        return playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            // Root in CI needs --no-sandbox; the rest keep Chromium off the (closed) network.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }
}

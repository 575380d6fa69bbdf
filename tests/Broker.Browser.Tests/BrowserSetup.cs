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

    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            // Root in CI needs --no-sandbox; the rest keep Chromium off the (closed) network.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
}

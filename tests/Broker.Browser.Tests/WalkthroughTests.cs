using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Broker.Testing;
using Broker.Testing.Processes;
using Microsoft.Playwright;

namespace Broker.Browser.Tests;

/// <summary>
/// docs/api.md's walk-through as a newcomer follows it: its shell blocks run as written in one bash (only
/// the ports differ: the broker's 5000 and the app's 3000 are free ports here), the example app started by
/// them, and the browser part in Chromium.
/// </summary>
public sealed partial class WalkthroughTests : IAsyncLifetime
{
    private SiloProcess _silo = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private Process _shell = null!;
    private readonly ConcurrentQueue<string> _output = new();
    private int _appPort;

    public async Task InitializeAsync()
    {
        var blocks = Blocks();
        var adminToken = AdminToken().Match(blocks["broker"]).Groups[1].Value;
        _silo = await BrowserSetup.StartDevelopmentSiloAsync(new Dictionary<string, string?> { ["Broker__AdminToken"] = adminToken });
        _appPort = FreePorts.Next();
        _playwright = await Playwright.CreateAsync();
        _browser = await BrowserSetup.LaunchChromiumAsync(_playwright);
        var info = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // What the example app reads besides API_KEY, pointed at this test's ports.
        info.Environment["PORT"] = _appPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["BROKER_URL"] = _silo.BaseAddress.AbsoluteUri.TrimEnd('/');
        _shell = new Process { StartInfo = info };
        _shell.OutputDataReceived += (_, e) => { if (e.Data is { } line) _output.Enqueue(line); };
        _shell.ErrorDataReceived += (_, e) => { if (e.Data is { } line) _output.Enqueue("stderr: " + line); };
        _shell.Start();
        _shell.BeginOutputReadLine();
        _shell.BeginErrorReadLine();
    }

    public async Task DisposeAsync()
    {
        if (!_shell.HasExited)
            _shell.Kill(entireProcessTree: true);
        _shell.Dispose();
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task The_documented_walkthrough_signs_a_user_in_through_the_example_app_and_ends_the_session()
    {
        var blocks = Blocks();
        var brokerPort = _silo.BaseAddress.Port;
        string Ported(string block) => block
            .Replace("http://localhost:5000", $"http://127.0.0.1:{brokerPort}", StringComparison.Ordinal)
            .Replace("localhost:3000", $"localhost:{_appPort}", StringComparison.Ordinal);

        // Step 2: the tenant, its key, the connection, and the example app in the background.
        await RunAsync(Ported(blocks["setup"]));
        await Eventually.HoldsAsync(() => Task.FromResult(_output.Any(l => l.StartsWith("Example app for tenant acme", StringComparison.Ordinal))),
            "the example app listening\n" + string.Join('\n', _output));
        Assert.Contains(_output, l => KeyLine().IsMatch(l));

        // Step 3: the browser.
        var page = await BrowserSetup.NewPageAsync(_browser);
        await page.GotoAsync($"http://localhost:{_appPort}/");
        await page.ClickAsync("[data-testid=sign-in]");
        await page.WaitForURLAsync("**/dev-idp/**");
        await page.FillAsync("#username", "alice");
        await page.ClickAsync("button[value=approve]");
        await page.WaitForURLAsync($"http://localhost:{_appPort}/");
        await Assertions.Expect(page.GetByTestId("user-name")).ToHaveTextAsync("alice");
        await Assertions.Expect(page.GetByTestId("session-status")).ToHaveTextAsync("active");
        var sessionId = await page.GetByTestId("session-id").InnerTextAsync();

        // Step 4: the session from the back end, with the id the app shows pasted in.
        var session = Ported(blocks["session"]).Replace("SID=paste-the-session-id-here", $"SID={sessionId}", StringComparison.Ordinal);
        var printed = await RunAsync(session);

        Assert.Contains($"\"sessionId\":\"{sessionId}\",\"status\":\"active\"", printed[0]);
        Assert.Contains("\"accessToken\":", printed[1]);
        Assert.Contains("\"status\":\"ended\",\"endReason\":\"logout\"", printed[^1]);
        // The block's last line stops the example app.
        using var http = new HttpClient();
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                await http.GetAsync($"http://localhost:{_appPort}/");
                return false;
            }
            catch (HttpRequestException)
            {
                return true;
            }
        }, "the example app stopped");
    }

    /// <summary>Feeds a block to the shell and waits until it ran; answers the lines it printed.</summary>
    private async Task<List<string>> RunAsync(string block)
    {
        var marker = $"__block_done_{Guid.NewGuid():N}__";
        var before = _output.Count;
        await _shell.StandardInput.WriteAsync(block + $"\necho; echo {marker}\n");
        await _shell.StandardInput.FlushAsync();
        await Eventually.HoldsAsync(() => Task.FromResult(_output.Contains(marker)), $"the block to finish:\n{block}\n{string.Join('\n', _output)}");
        return _output.Skip(before).TakeWhile(l => l != marker).Where(l => l.Length > 0 && !l.StartsWith("stderr: ", StringComparison.Ordinal)).ToList();
    }

    /// <summary>The shell blocks of the walk-through, by the name of the marker above each.</summary>
    private static Dictionary<string, string> Blocks()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "api.md"));
        var blocks = Block().Matches(text).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal(["broker", "session", "setup"], blocks.Keys.Order(StringComparer.Ordinal));
        return blocks;
    }

    [GeneratedRegex(@"<!-- walkthrough: (\w+) -->\s*```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex Block();

    [GeneratedRegex(@"Broker__AdminToken=(\S+)")]
    private static partial Regex AdminToken();

    [GeneratedRegex(@"^acme\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]
    private static partial Regex KeyLine();
}

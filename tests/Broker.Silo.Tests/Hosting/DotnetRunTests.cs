using System.Diagnostics;
using System.Net;
using Broker.Testing;

namespace Broker.Silo.Tests.Hosting;

/// <summary>README.md's first command, as a newcomer types it: <c>dotnet run --project src/Broker.Silo</c>,
/// through the launch profile (Development: the demo tenant, the dev IdP, a generated admin token).</summary>
public sealed class DotnetRunTests
{
    [Fact]
    public async Task Dotnet_run_listens_where_ASPNETCORE_URLS_says_serves_the_demo_and_says_so_last_in_a_readable_log()
    {
        var port = FreePorts.Next();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Built already (the test run's configuration), so that the test does not build it again.
        foreach (var arg in new[] { "run", "--project", "src/Broker.Silo", "--no-build", "-c", RepositoryRoot.Configuration })
            info.ArgumentList.Add(arg);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("Broker__", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["Broker__Cluster__SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) output.Enqueue(line); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await Eventually.HoldsAsync(async () =>
            {
                try
                {
                    return (await http.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return process.HasExited ? throw new InvalidOperationException($"dotnet run exited with {process.ExitCode}") : false;
                }
            }, $"the silo answering on port {port}", TimeSpan.FromSeconds(90));

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/demo/")).StatusCode); // Development: the launch profile's environment

            // The console format a person reads, not JSON; where to click, then the admin token, at the end of the start-up.
            await Eventually.HoldsAsync(() => Task.FromResult(output.Any(l => l.Contains("Development admin token", StringComparison.Ordinal))), "the admin token logged");
            var lines = output.ToList();
            Assert.DoesNotContain(lines, l => l.StartsWith('{'));
            var demo = lines.FindIndex(l => l.Contains($"Demo app: http://127.0.0.1:{port}/demo/", StringComparison.Ordinal));
            var token = lines.FindIndex(l => l.Contains("Development admin token", StringComparison.Ordinal));
            Assert.True(demo >= 0 && demo < token, string.Join('\n', lines));
            Assert.Single(lines, l => l.Contains("Development admin token", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, l => l.Contains("System.Net.Http.HttpClient", StringComparison.Ordinal)); // the demo's calls are not logged
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Broker.Testing.Processes;

namespace Broker.Silo.Tests.Hosting;

/// <summary>
/// docs/design.md §5: with <c>Broker__Management__Port</c> the silo listens there as well as on its configured
/// addresses, serves /metrics only there and nothing but operations there; which listener a request came
/// in on decides, never its Host header. Without the setting /metrics stays on the main listener.
/// </summary>
public sealed class ManagementPortTests
{
    [Fact]
    public async Task Metrics_are_served_only_on_the_management_port_which_serves_only_operations()
    {
        var managementPort = FreeLoopbackPort();
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?> { ["Broker__Management__Port"] = $"{managementPort}" });
        using var main = silo.CreateClient();
        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}") };
        Assert.NotEqual(managementPort, silo.BaseAddress.Port);

        using (var hidden = await main.GetAsync("/metrics"))
            AssertProblem404(hidden);
        using (var metrics = await management.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
            Assert.Contains("# TYPE broker_logins_total counter", await metrics.Content.ReadAsStringAsync());
        }
        foreach (var client in new[] { main, management })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        }
    }

    [Fact]
    public async Task The_management_port_refuses_the_api_even_with_the_admin_token()
    {
        var managementPort = FreeLoopbackPort();
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?> { ["Broker__Management__Port"] = $"{managementPort}" });
        using var main = silo.CreateClient();
        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}") };
        foreach (var client in new[] { main, management })
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SiloProcess.AdminToken);

        using (var created = await main.PostAsJsonAsync("/admin/tenants", new { id = "mgmt-port", displayName = "Management port", returnUrls = Array.Empty<string>() }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await main.GetAsync("/admin/tenants/mgmt-port")).StatusCode);
        using (var tenant = await management.GetAsync("/admin/tenants/mgmt-port"))
            AssertProblem404(tenant);
        using (var create = await management.PostAsJsonAsync("/admin/tenants", new { id = "mgmt-port-2", displayName = "X", returnUrls = Array.Empty<string>() }))
            AssertProblem404(create);
        using (var openApi = await management.GetAsync("/openapi/v1.json"))
            AssertProblem404(openApi);
    }

    [Fact]
    public async Task A_host_header_naming_the_management_port_does_not_open_metrics_on_the_main_port()
    {
        var managementPort = FreeLoopbackPort();
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?> { ["Broker__Management__Port"] = $"{managementPort}" });
        using var main = silo.CreateClient();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Host = $"127.0.0.1:{managementPort}";
        using var response = await main.SendAsync(request);

        AssertProblem404(response);
    }

    [Fact]
    public async Task Without_a_management_port_metrics_answer_on_the_main_address()
    {
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?>());
        using var main = silo.CreateClient();

        using var metrics = await main.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("# TYPE broker_logins_total counter", await metrics.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("urls")]
    [InlineData("http_ports")]
    public async Task A_management_port_that_is_also_the_main_port_stops_start_up(string mainFrom)
    {
        var port = FreeLoopbackPort();
        var environment = new Dictionary<string, string?>
        {
            ["Broker__Management__Port"] = $"{port}",
            ["ASPNETCORE_URLS"] = null,
            ["ASPNETCORE_HTTP_PORTS"] = mainFrom == "http_ports" ? $"{port}" : null,
        };
        string[] args = mainFrom == "urls" ? ["--urls", $"http://127.0.0.1:{port}"] : [];

        var (exitCode, _, stderr) = await SiloProcess.RunAsync(environment, args);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Configuration error: Broker:Management:Port ", line);
        Assert.Contains($"{port}", line);
    }

    private static void AssertProblem404(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>A port nothing listens on now; the silo binds it a moment later.</summary>
    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Broker.Testing;
using Broker.Testing.Processes;

namespace Broker.Silo.Tests.Hosting;

/// <summary>The silo as an operator runs it: a real process on the Memory store.</summary>
public sealed class SiloProcessTests
{
    [Fact]
    public async Task Starts_on_memory_by_default_answers_health_logs_json_and_stops_on_sigterm()
    {
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?>());
        using var http = silo.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

        silo.SendSigterm();
        await silo.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, silo.ExitCode);
        var lines = silo.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, line => JsonDocument.Parse(line).Dispose());
        Assert.Contains(lines, l => l.Contains("Application is shutting down", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Broker__Storage", "Cassandra", "Broker:Storage")]
    [InlineData("Broker__Reminders__PeriodSeconds", "abc", "Broker:Reminders:PeriodSeconds")]
    [InlineData("Broker__Cluster__SiloPort", "2.5", "Broker:Cluster:SiloPort")]
    [InlineData("Broker__Cluster__AdvertisedAddress", "silo-1.example", "Broker:Cluster:AdvertisedAddress")]
    [InlineData("Broker__Cluster__ClusterId", "two words", "Broker:Cluster:ClusterId")]
    [InlineData("Broker__Activations__IdleTimeoutSeconds", "-1", "Broker:Activations:IdleTimeoutSeconds")]
    [InlineData("Broker__Refreshes__MaxConcurrent", "0", "Broker:Refreshes:MaxConcurrent")]
    public async Task A_bad_value_stops_start_up_with_one_line_naming_the_key(string variable, string value, string key)
    {
        var (exitCode, _, stderr) = await SiloProcess.RunAsync(new Dictionary<string, string?> { [variable] = value });

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"Configuration error: {key} ", line);
        Assert.Contains(value, line);
    }

    [Fact]
    public async Task A_port_in_use_stops_start_up_with_one_line_and_exit_code_2()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, _, stderr) = await SiloProcess.RunAsync(new Dictionary<string, string?> { ["ASPNETCORE_URLS"] = $"http://localhost:{port}" });

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"Cannot listen on http://localhost:{port}: port {port} is in use by another program.", line);
        Assert.Contains("--urls", line);
    }

    [Fact]
    public async Task A_silo_port_in_use_stops_start_up_with_one_line_naming_the_setting()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, _, stderr) = await SiloProcess.RunAsync(new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}",
            ["Broker__Cluster__SiloPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"Cannot use the silo port {port} (Broker:Cluster:SiloPort): it is in use", line);
    }

    [Theory]
    [InlineData(null, "is required when Broker:Storage is Postgres")]
    [InlineData("Host=db;Nonsense=1;Password=hunter2", "is not a valid PostgreSQL connection string")]
    public async Task Postgres_needs_a_valid_connection_string(string? connectionString, string problem)
    {
        var (exitCode, _, stderr) = await SiloProcess.RunAsync(new Dictionary<string, string?>
        {
            ["Broker__Storage"] = "Postgres",
            ["ConnectionStrings__Broker"] = connectionString,
        });

        Assert.Equal(2, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("ConnectionStrings:Broker", line);
        Assert.Contains(problem, line);
        Assert.DoesNotContain("hunter2", line);
    }
}

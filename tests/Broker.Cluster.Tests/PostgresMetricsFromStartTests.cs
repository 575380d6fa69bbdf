using Broker.Testing.Processes;
using Xunit.Abstractions;

namespace Broker.Cluster.Tests;

/// <summary>
/// A silo's /metrics must count what it did before anyone asked: a login served, then the first scrape.
/// <para>
/// FAILS today (bug): <c>PrometheusMetrics</c> is a lazily built singleton, and its MeterListener starts
/// when the first GET /metrics resolves it; measurements made before that are dropped, so a new silo
/// under-reports everything it did before its first scrape (every pod start, every rolling restart).
/// Fix: build it at start, e.g. <c>app.Services.GetRequiredService&lt;PrometheusMetrics&gt;()</c> in
/// <c>MapOpsEndpoints</c> (src/Broker.Silo/Hosting/SiloHost.cs), or register it as a hosted service.
/// </para>
/// </summary>
public sealed class PostgresMetricsFromStartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_counts_the_logins_it_served_before_its_first_scrape()
    {
        await using var cluster = await Cluster.StartAsync(1);
        // A silo nobody has scraped yet.
        await using var fresh = await SiloProcess.StartAsync(cluster.Environment());

        await cluster.LoginAsync(fresh, fresh, fresh);

        var metrics = PrometheusText.Parse(await cluster.MetricsAsync(fresh));
        var completed = metrics.Sum("broker_logins_total", ("outcome", "completed"));
        Report.Line(output, $"first scrape after one login: broker_logins_total{{outcome=\"completed\"}} = {completed}");
        Assert.Equal(1, completed);
    }
}

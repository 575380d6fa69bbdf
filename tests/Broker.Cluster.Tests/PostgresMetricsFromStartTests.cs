using Broker.Testing.Processes;
using Xunit.Abstractions;

namespace Broker.Cluster.Tests;

/// <summary>
/// A silo's /metrics must count what it did before anyone asked: a login served, then the first scrape.
/// <para>
/// Two ways this failed: the Prometheus listener started at the first scrape and dropped what came
/// before (it is now built at start), and the pending login, which counts the login, could be placed
/// on the other silo of the cluster (it now prefers the silo whose front end began it).
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

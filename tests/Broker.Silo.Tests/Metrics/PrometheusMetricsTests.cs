using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Broker.Grains;
using Broker.Silo.Metrics;

namespace Broker.Silo.Tests.Metrics;

public sealed partial class PrometheusMetricsTests
{
    private static readonly string[] FamilyNames =
    [
        "broker_logins_total", "broker_refreshes_total", "broker_refresh_lost_total", "broker_refreshes_waiting",
        "broker_reminder_lag_seconds", "broker_sessions_active", "http_server_request_duration_seconds",
    ];

    [Fact]
    public void Every_family_has_help_and_type_before_any_sample()
    {
        using var metrics = new PrometheusMetrics();

        var lines = metrics.Write().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        foreach (var name in FamilyNames)
        {
            Assert.Contains(lines, l => l.StartsWith($"# HELP {name} ", StringComparison.Ordinal));
            Assert.Contains(lines, l => Regex.IsMatch(l, $"^# TYPE {name} (counter|gauge|histogram)$"));
        }
    }

    [Fact]
    public void Counters_and_histograms_are_written_in_the_text_format_with_escaped_labels()
    {
        using var metrics = new PrometheusMetrics(activeSessions: () => 7);
        var tenant = "t-" + Guid.NewGuid().ToString("N")[..8];
        BrokerMetrics.Logins.Add(1, new("tenant", tenant), new("connection", "c\"1"), new("outcome", "completed"));
        BrokerMetrics.Logins.Add(2, new("tenant", tenant), new("connection", "c\"1"), new("outcome", "completed"));
        using var meter = new Meter("Microsoft.AspNetCore.Hosting");
        var duration = meter.CreateHistogram<double>("http.server.request.duration");
        duration.Record(0.02, new("http.request.method", "GET"), new("http.response.status_code", 200), new("http.route", "/healthz"), new("server.address", "x"));
        BrokerMetrics.RefreshesWaiting.Add(3);
        BrokerMetrics.RefreshesWaiting.Add(-1);

        var text = metrics.Write();

        Assert.Contains($"broker_logins_total{{connection=\"c\\\"1\",outcome=\"completed\",tenant=\"{tenant}\"}} 3\n", text);
        Assert.Contains("broker_sessions_active 7\n", text);
        Assert.Contains("# TYPE broker_refreshes_waiting gauge\nbroker_refreshes_waiting 2\n", text);
        Assert.Contains("http_server_request_duration_seconds_bucket{code=\"200\",method=\"GET\",route=\"/healthz\",le=\"0.01\"} 0\n", text);
        Assert.Contains("http_server_request_duration_seconds_bucket{code=\"200\",method=\"GET\",route=\"/healthz\",le=\"0.025\"} 1\n", text);
        Assert.Contains("http_server_request_duration_seconds_count{code=\"200\",method=\"GET\",route=\"/healthz\"} 1\n", text);
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')),
            line => Assert.Matches(SampleLine(), line));
    }

    // name{label="value",...} number — label values may hold escaped quotes.
    [GeneratedRegex("""^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+]?([0-9.eE+-]+|Inf|NaN)$""")]
    private static partial Regex SampleLine();
}

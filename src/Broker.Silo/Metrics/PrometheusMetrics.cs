using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Broker.Silo.Metrics;

/// <summary>
/// Collects the instruments docs/design.md §6 names from System.Diagnostics.Metrics and writes them in the
/// Prometheus text format (version 0.0.4). Every family prints its HELP and TYPE lines before its first
/// sample, so dashboards and alerts can be written against a silo that has served nothing yet.
/// </summary>
public sealed class PrometheusMetrics : IDisposable
{
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] LagBuckets = [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 60];

    private static readonly MetricFamily[] Families =
    [
        new("broker_logins_total", "counter", "Logins begun, completed and failed, by tenant and connection.", "Broker", "broker_logins_total"),
        new("broker_refreshes_total", "counter", "Upstream token refreshes by outcome (ok, failed, error).", "Broker", "broker_refreshes_total"),
        new("broker_refresh_lost_total", "counter", "Sessions lost to a silo dying between a refresh and the write of its tokens.", "Broker", "broker_refresh_lost_total"),
        new("broker_refreshes_waiting", "gauge", "Refreshes due on this silo waiting for one of its refresh slots.", "Broker", "broker_refreshes_waiting"),
        new("broker_reminder_lag_seconds", "histogram", "How long after its due time a reminder tick was delivered.", "Broker", "broker_reminder_lag_seconds", LagBuckets),
        new("broker_sessions_active", "gauge", "Active sessions in storage (cluster-wide).", null, null),
        new("http_server_request_duration_seconds", "histogram", "Duration of HTTP requests served by this silo.",
            "Microsoft.AspNetCore.Hosting", "http.server.request.duration", DurationBuckets,
            new Dictionary<string, string> { ["http.request.method"] = "method", ["http.response.status_code"] = "code", ["http.route"] = "route" }),
    ];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Family, string Labels), Series> _series = new();
    private readonly Func<long>? _activeSessions;

    public PrometheusMetrics(Func<long>? activeSessions = null)
    {
        _activeSessions = activeSessions;
        // The family travels as the instrument's state, so a measurement finds it without a search.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (Families.FirstOrDefault(f => f.Meter == instrument.Meter.Name && f.Instrument == instrument.Name) is { } family)
                listener.EnableMeasurementEvents(instrument, family);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, family) => Record((MetricFamily)family!, value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, family) => Record((MetricFamily)family!, value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, family) => Record((MetricFamily)family!, value, tags));
        _listener.Start();
    }

    public string Write()
    {
        var text = new StringBuilder();
        foreach (var family in Families)
        {
            text.Append("# HELP ").Append(family.Name).Append(' ').Append(family.Help).Append('\n');
            text.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.Type).Append('\n');
            if (family.Name == "broker_sessions_active")
            {
                if (_activeSessions is not null)
                    text.Append(family.Name).Append(' ').Append(Number(_activeSessions())).Append('\n');
                continue;
            }
            foreach (var ((_, labels), series) in _series.Where(s => s.Key.Family == family.Name).OrderBy(s => s.Key.Labels, StringComparer.Ordinal))
                series.Write(text, family, labels);
        }
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(MetricFamily family, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _series.GetOrAdd((family.Name, Labels(family, tags)), _ => new Series(family.Buckets)).Add(value);

    private static string Labels(MetricFamily family, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var pairs = new List<(string, string)>();
        foreach (var (key, value) in tags)
        {
            var name = family.LabelNames is null ? key : family.LabelNames.GetValueOrDefault(key);
            if (name is not null)
                pairs.Add((name, Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
        }
        return string.Join(',', pairs.OrderBy(p => p.Item1, StringComparer.Ordinal).Select(p => $"{p.Item1}=\"{Escape(p.Item2)}\""));
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private sealed record MetricFamily(string Name, string Type, string Help, string? Meter, string? Instrument,
        double[]? Buckets = null, IReadOnlyDictionary<string, string>? LabelNames = null);

    /// <summary>One label set's running totals: a counter's sum, or a histogram's bucket counts.</summary>
    private sealed class Series(double[]? buckets)
    {
        private readonly long[] _bucketCounts = new long[buckets?.Length ?? 0];
        private double _sum;
        private long _count;

        public void Add(double value)
        {
            lock (this)
            {
                _sum += value;
                _count++;
                for (var i = 0; i < _bucketCounts.Length; i++)
                    if (value <= buckets![i])
                        _bucketCounts[i]++;
            }
        }

        public void Write(StringBuilder text, MetricFamily family, string labels)
        {
            lock (this)
            {
                if (buckets is null)
                {
                    text.Append(family.Name).Append(Braces(labels)).Append(' ').Append(Number(_sum)).Append('\n');
                    return;
                }
                var sep = labels.Length == 0 ? "" : ",";
                for (var i = 0; i < buckets.Length; i++)
                    text.Append(family.Name).Append("_bucket{").Append(labels).Append(sep).Append("le=\"").Append(Number(buckets[i])).Append("\"} ").Append(_bucketCounts[i]).Append('\n');
                text.Append(family.Name).Append("_bucket{").Append(labels).Append(sep).Append("le=\"+Inf\"} ").Append(_count).Append('\n');
                text.Append(family.Name).Append("_sum").Append(Braces(labels)).Append(' ').Append(Number(_sum)).Append('\n');
                text.Append(family.Name).Append("_count").Append(Braces(labels)).Append(' ').Append(_count).Append('\n');
            }
        }

        private static string Braces(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";
    }
}

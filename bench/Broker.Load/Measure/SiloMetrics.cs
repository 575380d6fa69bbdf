using System.Globalization;
using System.Text.Json.Nodes;

namespace Broker.Load.Measure;

/// <summary>
/// What the silos' /metrics say, summed over the silos (each counts what its own activations did):
/// <c>broker_reminder_lag_seconds</c> (count, mean, and the bucket bounds that hold the median and the
/// 99th percentile) and <c>broker_refreshes_total</c> by outcome.
/// </summary>
public static class SiloMetrics
{
    public static async Task<JsonObject> ReadAsync(HttpClient http, IEnumerable<Uri> silos, CancellationToken cancellationToken)
    {
        var buckets = new SortedDictionary<double, double>();
        double count = 0, sum = 0;
        var refreshes = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var silo in silos)
        {
            var text = await http.GetStringAsync(new Uri(silo, "/metrics"), cancellationToken);
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith('#') || line.LastIndexOf(' ') is var space && space < 0)
                    continue;
                var value = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
                var name = line[..space];
                if (name.StartsWith("broker_reminder_lag_seconds_bucket{", StringComparison.Ordinal))
                {
                    var le = Label(name, "le")!;
                    var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                    buckets[bound] = buckets.GetValueOrDefault(bound) + value;
                }
                else if (name.StartsWith("broker_reminder_lag_seconds_count", StringComparison.Ordinal))
                    count += value;
                else if (name.StartsWith("broker_reminder_lag_seconds_sum", StringComparison.Ordinal))
                    sum += value;
                else if (name.StartsWith("broker_refreshes_total{", StringComparison.Ordinal) && Label(name, "outcome") is { } outcome)
                    refreshes[outcome] = refreshes.GetValueOrDefault(outcome) + value;
            }
        }
        double? UpperBound(double q) => count == 0 ? null : buckets.FirstOrDefault(b => b.Value >= q * count).Key is var k && double.IsInfinity(k) ? null : k;
        return new JsonObject
        {
            ["reminderLagSeconds"] = new JsonObject
            {
                ["count"] = count,
                ["mean"] = count == 0 ? null : Math.Round(sum / count, 3),
                ["p50AtMost"] = UpperBound(0.5),
                ["p99AtMost"] = UpperBound(0.99),
            },
            ["refreshesTotal"] = new JsonObject(refreshes.Select(r => KeyValuePair.Create(r.Key, (JsonNode?)r.Value))),
        };
    }

    private static string? Label(string series, string label)
    {
        var start = series.IndexOf(label + "=\"", StringComparison.Ordinal);
        if (start < 0)
            return null;
        start += label.Length + 2;
        return series[start..series.IndexOf('"', start)];
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Broker.Load.Client;

/// <summary>
/// Latency samples of one kind (a hop), kept whole so that percentiles are exact rather than bucketed:
/// a 20 s run at a few thousand requests a second is a few hundred thousand doubles.
/// </summary>
public sealed class Latency
{
    private readonly List<double> _ms = [];

    public int Count => _ms.Count;

    public void Add(double ms) => _ms.Add(ms);

    public void AddRange(Latency other) => _ms.AddRange(other._ms);

    public static double MillisecondsSince(long timestamp) => Stopwatch.GetElapsedTime(timestamp).TotalMilliseconds;

    /// <summary>count, p50, p95, p99 and max in milliseconds (the nearest-rank percentile).</summary>
    public JsonObject Summary()
    {
        var v = _ms.ToArray();
        Array.Sort(v);
        double? At(double p) => v.Length == 0 ? null : Math.Round(v[Math.Max(0, (int)Math.Ceiling(p / 100 * v.Length) - 1)], 2);
        return new JsonObject { ["count"] = v.Length, ["p50"] = At(50), ["p95"] = At(95), ["p99"] = At(99), ["max"] = At(100) };
    }
}

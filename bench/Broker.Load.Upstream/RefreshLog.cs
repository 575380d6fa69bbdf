using System.Text.Json.Nodes;

namespace Broker.Load.Upstream;

/// <summary>
/// The upstream's own log of refresh grants for tokens that carry their session's due time (<c>due</c>,
/// Unix ms; the benchmark seeds such sessions): how late after its due time each session's refresh
/// reached the provider. This is the lag the refresh scenario reports.
/// </summary>
public sealed class RefreshLog
{
    private readonly Lock _lock = new();
    private readonly List<double> _lagMs = [];
    private readonly HashSet<string> _sessions = new(StringComparer.Ordinal);
    private long _firstAtMs;
    private long _lastAtMs;

    /// <summary>Records a session's refresh; false when that session was refreshed before (a retried refresh).</summary>
    public bool Record(string session, long dueUnixMs)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (_lock)
        {
            if (!_sessions.Add(session))
                return false; // counted once, at its first arrival
            _lagMs.Add(now - dueUnixMs);
            _firstAtMs = _firstAtMs == 0 ? now : Math.Min(_firstAtMs, now);
            _lastAtMs = Math.Max(_lastAtMs, now);
        }
        return true;
    }

    public JsonObject Summary(long repeatedGrants)
    {
        double[] lags;
        long first, last;
        lock (_lock)
        {
            lags = [.. _lagMs];
            (first, last) = (_firstAtMs, _lastAtMs);
        }
        Array.Sort(lags);
        double? At(double p) => lags.Length == 0 ? null : lags[Math.Max(0, (int)Math.Ceiling(p / 100 * lags.Length) - 1)];
        return new JsonObject
        {
            ["sessions"] = lags.Length,
            ["repeatedGrants"] = repeatedGrants,
            ["firstAtUnixMs"] = first,
            ["lastAtUnixMs"] = last,
            ["lagMs"] = new JsonObject { ["p50"] = At(50), ["p95"] = At(95), ["p99"] = At(99), ["max"] = At(100) },
        };
    }
}

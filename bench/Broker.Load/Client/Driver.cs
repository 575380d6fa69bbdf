using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Broker.Load.Client;

/// <summary>A request that did not answer as a working broker would; its key ("callback:400") is what the JSON line counts.</summary>
public sealed class HopException(string hop, string what) : Exception($"{hop}:{what}")
{
    public string Key => Message;
}

/// <summary>What one virtual user saw: latencies per hop and errors, counted only inside the measured part.</summary>
public sealed class Recorder(long measureFrom, long stopAt)
{
    public Dictionary<string, Latency> Hops { get; } = [];

    public Dictionary<string, int> Errors { get; } = [];

    public long Done { get; set; }

    public bool Measuring => Stopwatch.GetTimestamp() is var now && now >= measureFrom && now <= stopAt;

    public void Add(string hop, double ms)
    {
        if (!Measuring)
            return;
        if (!Hops.TryGetValue(hop, out var latency))
            Hops[hop] = latency = new Latency();
        latency.Add(ms);
    }
}

/// <summary>The measured part of a driven run.</summary>
public sealed record DriveResult(long Done, double Seconds, Dictionary<string, Latency> Hops, Dictionary<string, int> Errors)
{
    public int ErrorCount => Errors.Values.Sum();

    private static readonly string[] FlowOrder = ["login", "authorize", "callback", "exchange", "total"];

    /// <summary>Per hop, in the order of a login.</summary>
    public JsonObject LatencyMs() => new(Hops.OrderBy(h => Array.IndexOf(FlowOrder, h.Key) is var i and >= 0 ? i : FlowOrder.Length)
        .Select(h => KeyValuePair.Create(h.Key, (JsonNode?)h.Value.Summary())));

    public JsonObject ErrorsByKind() => new(Errors.OrderBy(e => e.Key).Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value)));
}

/// <summary>
/// Runs <c>work</c> in a loop on each of N virtual users for warm-up plus duration; only the measured part
/// (after the warm-up) is counted. The loops stop by themselves at the end.
/// </summary>
public static class Driver
{
    public static async Task<DriveResult> DriveAsync(int vus, double warmupSeconds, double durationSeconds,
        Func<int, Recorder, CancellationToken, Task> work, Action? onMeasureStart, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(warmupSeconds * Stopwatch.Frequency);
        var stopAt = measureFrom + (long)(durationSeconds * Stopwatch.Frequency);
        var recorders = Enumerable.Range(0, vus).Select(_ => new Recorder(measureFrom, stopAt)).ToArray();
        using var progress = new Timer(_ =>
        {
            var seconds = Stopwatch.GetElapsedTime(measureFrom).TotalSeconds;
            if (seconds > 0)
                Console.Error.WriteLine($"# {recorders.Sum(r => r.Done)} done, {recorders.Sum(r => r.Errors.Values.Sum())} errors, {recorders.Sum(r => r.Done) / seconds:F0}/s");
        }, null, TimeSpan.FromSeconds(warmupSeconds + 5), TimeSpan.FromSeconds(5));
        using var mark = new Timer(_ => onMeasureStart?.Invoke(), null, TimeSpan.FromSeconds(warmupSeconds), Timeout.InfiniteTimeSpan);

        await Task.WhenAll(recorders.Select((recorder, vu) => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await work(vu, recorder, cancellationToken);
                    if (recorder.Measuring)
                        recorder.Done++;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    if (recorder.Measuring)
                    {
                        var key = e is HopException hop ? hop.Key : "client:" + e.GetType().Name;
                        recorder.Errors[key] = recorder.Errors.GetValueOrDefault(key) + 1;
                    }
                    await Task.Delay(20, CancellationToken.None); // a failing broker must not become a hot loop
                }
            }
        }, CancellationToken.None)));
        cancellationToken.ThrowIfCancellationRequested();

        var hops = new Dictionary<string, Latency>();
        var errors = new Dictionary<string, int>();
        foreach (var recorder in recorders)
        {
            foreach (var (hop, latency) in recorder.Hops)
            {
                if (!hops.TryGetValue(hop, out var all))
                    hops[hop] = all = new Latency();
                all.AddRange(latency);
            }
            foreach (var (key, count) in recorder.Errors)
                errors[key] = errors.GetValueOrDefault(key) + count;
        }
        var seconds = Math.Min(durationSeconds, Stopwatch.GetElapsedTime(measureFrom).TotalSeconds);
        return new DriveResult(recorders.Sum(r => r.Done), seconds, hops, errors);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace Broker.Load.Measure;

/// <summary>
/// A silo's memory from outside, without touching the product: the working set (VmRSS in /proc) and the
/// GC heap from the runtime's own <c>System.Runtime</c> counters (gc-heap-size, gc-committed), read over an
/// EventPipe session as dotnet-counters would.
/// </summary>
public static class ProcessMemory
{
    public static async Task<JsonObject> ReadAsync(int pid)
    {
        var result = new JsonObject { ["rssMiB"] = RssMiB(pid) };
        var counters = await CountersAsync(pid, TimeSpan.FromSeconds(15));
        result["gcHeapMiB"] = counters.TryGetValue("gc-heap-size", out var heap) ? Math.Round(heap, 1) : null;
        result["gcCommittedMiB"] = counters.TryGetValue("gc-committed", out var committed) ? Math.Round(committed, 1) : null;
        return result;
    }

    private static double? RssMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? null : Math.Round(double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024, 1);
    }

    /// <summary>The first reading of each counter (in MB, as the runtime reports them); empty when the session failed.</summary>
    private static async Task<IReadOnlyDictionary<string, double>> CountersAsync(int pid, TimeSpan timeout)
    {
        var found = new ConcurrentDictionary<string, double>();
        var both = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        EventPipeSession session;
        try
        {
            session = new DiagnosticsClient(pid).StartEventPipeSession(
                new EventPipeProvider("System.Runtime", EventLevel.Informational, 0, new Dictionary<string, string> { ["EventCounterIntervalSec"] = "1" }),
                requestRundown: false);
        }
        catch (Exception e) when (e is ServerNotAvailableException or DiagnosticsClientException or UnsupportedCommandException)
        {
            Console.Error.WriteLine($"# no EventPipe session with {pid}: {e.Message}");
            return found;
        }
        using (session)
        {
            var processing = Task.Run(() =>
            {
                using var source = new EventPipeEventSource(session.EventStream);
                source.Dynamic.All += e =>
                {
                    if (e.EventName != "EventCounters" || e.PayloadValue(0) is not IDictionary<string, object> outer
                        || outer["Payload"] is not IDictionary<string, object> payload || payload["Name"] is not string name)
                        return;
                    if (name is "gc-heap-size" or "gc-committed" && payload.TryGetValue("Mean", out var mean))
                    {
                        found.TryAdd(name, Convert.ToDouble(mean, CultureInfo.InvariantCulture));
                        if (found.Count == 2)
                            both.TrySetResult();
                    }
                };
                source.Process();
            });
            await Task.WhenAny(both.Task, Task.Delay(timeout));
            try
            {
                session.Stop();
                await processing.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is TimeoutException or ServerNotAvailableException or IOException)
            {
                // the readings (if any) are in already
            }
        }
        return found;
    }
}

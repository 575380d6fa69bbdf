using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Broker.Load.Measure;

/// <summary>
/// Where the CPU went during the measured part: CPU seconds of each process from /proc (utime + stime)
/// between <see cref="Start"/> and <see cref="Stop"/>, as a percentage of one core (200 = both cores of
/// this machine). PostgreSQL counts the postmaster and all its backends. <c>other</c> is what the rest
/// of the machine used meanwhile (all busy time in /proc/stat less ours): a run beside someone's build
/// shows there, and its figures are disturbed.
/// </summary>
public sealed class CpuMeter(IReadOnlyDictionary<string, int> processes, int? postgresPid)
{
    private Dictionary<string, double> _start = [];
    private long _startedAt;

    public void Start()
    {
        _start = Read();
        _startedAt = Stopwatch.GetTimestamp();
    }

    public JsonObject Stop()
    {
        var end = Read();
        var seconds = Stopwatch.GetElapsedTime(_startedAt).TotalSeconds;
        var result = new JsonObject();
        foreach (var (name, cpu) in end)
        {
            if (_start.TryGetValue(name, out var before) && seconds > 0 && name != Machine)
                result[name] = Math.Round((cpu - before) / seconds * 100);
        }
        var ours = end.Where(e => e.Key != Machine).Sum(e => e.Value) - _start.Where(e => e.Key != Machine).Sum(e => e.Value);
        result["other"] = Math.Max(0, Math.Round((end[Machine] - _start[Machine] - ours) / seconds * 100));
        return result;
    }

    private Dictionary<string, double> Read()
    {
        var cpu = new Dictionary<string, double>
        {
            [Machine] = MachineBusySeconds(),
            ["client"] = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
        };
        foreach (var (name, pid) in processes)
        {
            if (Seconds(pid) is { } s)
                cpu[name] = s;
        }
        if (postgresPid is { } postmaster)
        {
            var total = 0.0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && (pid == postmaster || Parent(pid) == postmaster))
                    total += Seconds(pid) ?? 0;
            }
            cpu["postgres"] = total;
        }
        return cpu;
    }

    private const string Machine = "(machine)";

    // The first line of /proc/stat: user nice system idle iowait irq softirq steal ..., in USER_HZ (100 a second).
    private static double MachineBusySeconds()
    {
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]
            .Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
    }

    // /proc/PID/stat: fields after the ")" that ends the name; ppid is the 2nd, utime and stime the 12th and 13th.
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static int? Parent(int pid) => Stat(pid) is { } f ? int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture) : null;

    // USER_HZ is 100 on Linux.
    private static double? Seconds(int pid) => Stat(pid) is { } f
        ? (double.Parse(f[11], System.Globalization.CultureInfo.InvariantCulture) + double.Parse(f[12], System.Globalization.CultureInfo.InvariantCulture)) / 100
        : null;
}

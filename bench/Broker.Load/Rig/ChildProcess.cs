using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Broker.Load.Rig;

/// <summary>
/// A process the benchmark started: its output goes to a log file (at most <see cref="LogLimitBytes"/>; the
/// lines past it are only counted), and it is stopped when the run ends, whichever way it ends
/// (<see cref="KillAll"/> is the last resort on exit).
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const long LogLimitBytes = 256L << 20;
    private static readonly List<ChildProcess> Running = [];
    private long _logBytes;
    private long _lines;
    private long _warnings;
    private long _errors;
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StreamWriter _log;

    private ChildProcess(Process process, StreamWriter log, string name)
    {
        _process = process;
        _log = log;
        Name = name;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>How much it logged: lines, and the silo's JSON log entries at Warning and at Error (or Critical).</summary>
    public JsonObject LogCounts() => new()
    {
        ["lines"] = Interlocked.Read(ref _lines),
        ["warnings"] = Interlocked.Read(ref _warnings),
        ["errors"] = Interlocked.Read(ref _errors),
    };

    /// <summary>Starts <c>dotnet DLL args</c> in the DLL's directory with the environment given (null removes a variable).</summary>
    public static ChildProcess StartDotnet(string name, string dll, IEnumerable<string> args, IDictionary<string, string?> environment, string logPath, Func<string, bool>? readyLine = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment)
            info.Environment[key] = value;
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var child = new ChildProcess(new Process { StartInfo = info }, log, name);
        void OnLine(string? line)
        {
            if (line is null)
                return;
            Interlocked.Increment(ref child._lines);
            if (line.Contains("\"LogLevel\":\"Warning\"", StringComparison.Ordinal))
                Interlocked.Increment(ref child._warnings);
            else if (line.Contains("\"LogLevel\":\"Error\"", StringComparison.Ordinal) || line.Contains("\"LogLevel\":\"Critical\"", StringComparison.Ordinal))
                Interlocked.Increment(ref child._errors);
            if (Interlocked.Add(ref child._logBytes, line.Length + 1) <= LogLimitBytes)
            {
                lock (log)
                    log.WriteLine(line);
            }
            if (readyLine?.Invoke(line) == true)
                child._ready.TrySetResult();
        }
        child._process.OutputDataReceived += (_, e) => OnLine(e.Data);
        child._process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        lock (Running)
            Running.Add(child);
        return child;
    }

    /// <summary>Waits for the line that says it is ready; fails when it exits first or the time is up.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var exited = _process.WaitForExitAsync(cancellationToken);
        var first = await Task.WhenAny(_ready.Task, exited, Task.Delay(timeout, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
        if (first != _ready.Task)
            throw new InvalidOperationException($"{Name} did not start ({(_process.HasExited ? $"exit code {_process.ExitCode}" : "timed out")}); see its log");
    }

    /// <summary>SIGTERM, then SIGKILL when it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
            try
            {
                await _process.WaitForExitAsync().WaitAsync(grace);
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        lock (Running)
            Running.Remove(this);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(20));
        _process.Dispose();
        lock (_log)
            _log.Dispose();
    }

    /// <summary>Kills whatever is still running: for an exit that skipped the orderly stop.</summary>
    public static void KillAll()
    {
        lock (Running)
        {
            foreach (var child in Running.Where(c => !c._process.HasExited))
                child._process.Kill(entireProcessTree: true);
            Running.Clear();
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Broker.Testing.Processes;

/// <summary>
/// A real Broker.Silo process on a loopback port of its own choosing (<c>--urls http://127.0.0.1:0</c>;
/// the bound address is read from its "Now listening on" log line). Needs Broker.Silo.dll beside the
/// test assembly, which a project reference to Broker.Silo provides.
/// </summary>
public sealed partial class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SiloProcess(Process process) => _process = process;

    /// <summary>The admin token every test silo gets unless the test names another.</summary>
    public const string AdminToken = "test-admin-token-0123456789abcdef";

    /// <summary>One master key for every test silo, so silos over one database share the key ring.</summary>
    public const string MasterKey = "YnJva2VyLXRlc3RzLW1hc3Rlci1rZXktMzItYnl0ZXM=";

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The Orleans silo port the process was given (Broker__Cluster__SiloPort).</summary>
    public int SiloPort { get; private set; }

    public int Id => _process.Id;

    public string StandardOutput { get { lock (_stdout) return _stdout.ToString(); } }

    public string StandardError { get { lock (_stderr) return _stderr.ToString(); } }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts a silo and waits until it listens.</summary>
    public static Task<SiloProcess> StartAsync(IDictionary<string, string?> environment, params string[] args) =>
        StartAsync(new SiloLaunch(), environment, args);

    /// <summary>Starts a silo the way <paramref name="launch"/> says and waits until it listens.</summary>
    public static async Task<SiloProcess> StartAsync(SiloLaunch launch, IDictionary<string, string?> environment, params string[] args)
    {
        var silo = Launch(launch, environment, ["--urls", "http://127.0.0.1:0", .. args]);
        var exited = silo._process.WaitForExitAsync();
        var first = await Task.WhenAny(silo._listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != silo._listening.Task)
        {
            await silo.DisposeAsync();
            throw new InvalidOperationException($"The silo did not start.\nstdout:\n{silo.StandardOutput}\nstderr:\n{silo.StandardError}");
        }
        silo.BaseAddress = await silo._listening.Task;
        return silo;
    }

    /// <summary>Runs the silo to completion (a command such as <c>migrate</c>, or a start that must fail).</summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunAsync(IDictionary<string, string?> environment, params string[] args)
    {
        await using var silo = Launch(new SiloLaunch(), environment, args);
        await silo._process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        silo._process.WaitForExit(); // drains the output readers
        return (silo._process.ExitCode, silo.StandardOutput, silo.StandardError);
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress };

    /// <summary>Asks the process to stop the way Kubernetes does.</summary>
    public void SendSigterm()
    {
        if (Kill(_process.Id, Sigterm) != 0)
            throw new InvalidOperationException($"kill(SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Kills the process at once (SIGKILL): a crash, an OOM kill, a lost node. Nothing is handed back.</summary>
    public void SendSigkill()
    {
        if (Kill(_process.Id, Sigkill) != 0)
            throw new InvalidOperationException($"kill(SIGKILL) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public Task WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync().WaitAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static SiloProcess Launch(SiloLaunch launch, IDictionary<string, string?> environment, string[] args)
    {
        var directory = launch.Directory ?? AppContext.BaseDirectory;
        var info = new ProcessStartInfo(launch.Uid is null ? "dotnet" : "setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        if (launch.Uid is { } uid)
        {
            // util-linux's setpriv execs dotnet as that user (same pid), with no supplementary groups.
            foreach (var arg in new[] { $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--", "dotnet" })
                info.ArgumentList.Add(arg);
            info.Environment["HOME"] = "/nonexistent";
        }
        info.ArgumentList.Add(Path.Combine(directory, "Broker.Silo.dll"));
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        // A clean environment for the broker's own keys, so the developer's shell cannot leak into a test.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("Broker__", StringComparison.Ordinal) || k.StartsWith("ConnectionStrings__", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        info.Environment["DOTNET_ENVIRONMENT"] = null;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // What Production requires; a test names its own values to override these.
        info.Environment["Broker__AdminToken"] = AdminToken;
        info.Environment["Broker__PublicBaseUrl"] = "http://127.0.0.1/";
        info.Environment["Broker__DataProtection__MasterKey"] = MasterKey;
        // Every silo on one host needs its own silo port; tests run several at once.
        info.Environment["Broker__Cluster__SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (key, value) in environment)
            info.Environment[key] = value;

        var process = new Process { StartInfo = info };
        // A test may give a bad port on purpose (start-up must refuse it).
        var silo = new SiloProcess(process) { SiloPort = int.TryParse(info.Environment["Broker__Cluster__SiloPort"], out var port) ? port : 0 };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (silo._stdout)
                silo._stdout.AppendLine(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } match)
                silo._listening.TrySetResult(new Uri(match.Groups[1].Value));
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (silo._stderr)
                    silo._stderr.AppendLine(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    private const int Sigterm = 15;
    private const int Sigkill = 9;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex("Now listening on: (http://[0-9.:]+)")]
    private static partial Regex ListeningLine();
}

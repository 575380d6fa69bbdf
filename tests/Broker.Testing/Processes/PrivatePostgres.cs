using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Broker.Testing.Processes;

/// <summary>
/// A PostgreSQL server of the test's own, in a temporary directory, for tests that stop and start the
/// database itself. Runs as the <c>postgres</c> OS user when the tests run as root (the server refuses
/// root). Needs the server binaries (Debian's postgresql package; scripts/test.sh installs it).
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dir;

    private PrivatePostgres(string bin, string dir, int port)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=3";

    public static async Task<PrivatePostgres> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderBy(d => int.Parse(Path.GetFileName(d))).Select(d => Path.Combine(d, "bin"))
            .LastOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            ?? throw new InvalidOperationException("PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql).");
        var dir = Directory.CreateTempSubdirectory("broker-pg-").FullName;
        var server = new PrivatePostgres(bin, dir, FreePorts.Next());
        if (Environment.UserName == "root")
            await RunAsync("chown", null, "-R", "postgres", dir);
        await server.PgAsync("initdb", "-D", server.DataDir, "-U", "postgres", "--auth=trust", "--no-sync");
        await server.StartServerAsync();
        return server;
    }

    private string DataDir => Path.Combine(_dir, "data");

    public Task StartServerAsync() => PgAsync("pg_ctl", "-D", DataDir, "-w", "-l", Path.Combine(_dir, "log"), "-o",
        $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={_dir} -c fsync=off", "start");

    public Task StopServerAsync() => PgAsync("pg_ctl", "-D", DataDir, "-w", "-m", "fast", "stop");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await PgAsync("pg_ctl", "-D", DataDir, "-m", "immediate", "stop");
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }
        Directory.Delete(_dir, recursive: true);
    }

    private Task PgAsync(string tool, params string[] args) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", null, ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
            : RunAsync(Path.Combine(_bin, tool), null, args);

    private static async Task RunAsync(string file, string? workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "/" };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}{await stdout}");
    }

}

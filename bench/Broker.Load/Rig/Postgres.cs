using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Broker.Load.Rig;

/// <summary>
/// A database of the run's own: on a server named by <c>--pg</c> / <c>BROKER_LOAD_PG</c>, or on a throwaway
/// server that scripts/pg.sh starts (and removes at the end), as scripts/test.sh does it.
/// </summary>
public sealed class Postgres : IAsyncDisposable
{
    private readonly string _serverConnectionString;
    private readonly string? _pgDirectory;
    private readonly string? _pgScript;

    private Postgres(string serverConnectionString, string database, string? pgDirectory, string? pgScript)
    {
        _serverConnectionString = serverConnectionString;
        _pgDirectory = pgDirectory;
        _pgScript = pgScript;
        Database = database;
        // Npgsql's defaults (a pool of 100 connections per silo), as a deployment that names none has them.
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = database }.ConnectionString;
    }

    public string Database { get; }

    public string ConnectionString { get; }

    /// <summary>The postmaster's pid when this run started the server (for its CPU figures), else null.</summary>
    public int? ServerPid => _pgDirectory is null ? null
        : int.TryParse(File.ReadLines(Path.Combine(_pgDirectory, "data", "postmaster.pid")).FirstOrDefault(), out var pid) ? pid : null;

    public static async Task<Postgres> StartAsync(string? server, string? repoRoot, CancellationToken cancellationToken)
    {
        string? directory = null, script = null;
        if (server is null)
        {
            script = repoRoot is null ? throw new InvalidOperationException("scripts/pg.sh not found above the program's directory: give --pg") : Path.Combine(repoRoot, "scripts", "pg.sh");
            directory = Path.Combine(Path.GetTempPath(), "broker-load-pg-" + Guid.NewGuid().ToString("N")[..8]);
            for (var attempt = 1; server is null; attempt++)
            {
                var (code, output) = await RunAsync("bash", [script, "start", directory, FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken);
                if (code == 0)
                    server = output.Trim();
                else if (code != 3 || attempt == 5) // 3: most likely the port was taken meanwhile
                    throw new InvalidOperationException($"scripts/pg.sh start failed ({code}): {output}");
            }
        }
        var database = "broker_load_" + Guid.NewGuid().ToString("N")[..12];
        var postgres = new Postgres(server, database, directory, script);
        await postgres.OnServerAsync($"CREATE DATABASE \"{database}\"");
        return postgres;
    }

    public NpgsqlDataSource CreateDataSource() => NpgsqlDataSource.Create(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await OnServerAsync($"DROP DATABASE IF EXISTS \"{Database}\" WITH (FORCE)");
        }
        catch (NpgsqlException)
        {
            // the server is gone already; nothing left to drop
        }
        if (_pgScript is not null)
            await RunAsync("bash", [_pgScript, "stop", _pgDirectory!], CancellationToken.None);
    }

    /// <summary>Stops the server this run started, without waiting: the last resort on exit.</summary>
    public void StopNow()
    {
        if (_pgScript is not null)
            Process.Start("bash", [_pgScript, "stop", _pgDirectory!])?.WaitForExit(10_000);
    }

    private async Task OnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_serverConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, (await stdout) + (await stderr));
    }
}

using Broker.Silo.Hosting;
using Npgsql;

namespace Broker.Silo.Postgres;

/// <summary>
/// Deletes the state of pending logins that were never completed: the user never came back. Each is
/// expired long before (10 min), and a completed one deletes its own row; a row untouched for an
/// hour is only garbage. Sweeping them here costs one statement every few minutes instead of a
/// reminder written and deleted per login.
/// Every silo sweeps; the statement is idempotent.
/// </summary>
public sealed class StorageHousekeeping(NpgsqlDataSource dataSource, ClusterSettings cluster, ILogger<StorageHousekeeping> logger) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                await SweepAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Deletes what is due; returns how many rows. An authorization code of the OpenID Provider lives 60 s;
    /// its row is kept an hour so that a replay is still recognised (and revokes what the code gave).</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("""
                DELETE FROM orleansstorage
                WHERE serviceid = $1 AND graintypestring IN ('login', 'authorization-code') AND modifiedon < now() - interval '1 hour'
                """);
            command.Parameters.Add(new() { Value = cluster.ServiceId });
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            // The audit trail keeps 30 days (docs/design.md §6 "Events").
            await using var events = dataSource.CreateCommand("DELETE FROM broker_events WHERE at < now() - interval '30 days'");
            return deleted + await events.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (NpgsqlException e)
        {
            logger.LogWarning("Storage housekeeping failed ({Error}); trying again later", e.Message);
            return 0;
        }
    }
}

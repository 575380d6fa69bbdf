using Broker.Silo.Postgres;

namespace Broker.Silo.Hosting;

/// <summary>Applies pending migrations before the silo serves or polls. Silos and their database often
/// start together, so an unreachable database is retried for a while before start-up gives up.</summary>
public sealed class MigrateOnStart(PostgresMigrator migrator, ILogger<MigrateOnStart> logger) : IHostedService
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(30);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + GiveUpAfter;
        while (true)
        {
            try
            {
                var applied = await migrator.MigrateAsync(cancellationToken);
                logger.LogInformation("Database schema at version {Version}; applied {Applied}",
                    PostgresMigrator.LatestVersion, applied.Count == 0 ? "none" : string.Join(", ", applied));
                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException && DateTime.UtcNow < deadline)
            {
                logger.LogWarning("Database not reachable yet ({Error}); retrying", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

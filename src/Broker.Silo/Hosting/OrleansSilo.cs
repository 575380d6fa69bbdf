using Broker.Grains;
using Orleans.Configuration;

namespace Broker.Silo.Hosting;

/// <summary>
/// The Orleans silo co-hosted with the HTTP front end (docs/design.md §2): one process on Memory (localhost
/// clustering, memory storage and reminders), or a member of the cluster whose membership, grain
/// state and reminders live in PostgreSQL.
/// </summary>
public static class OrleansSilo
{
    public static WebApplicationBuilder AddOrleansSilo(this WebApplicationBuilder builder, SiloSettings settings)
    {
        var cluster = settings.Cluster;
        builder.UseOrleans(silo =>
        {
            if (settings.Storage == StorageKind.Memory)
            {
                // No gateway: nothing but this process calls its grains.
                silo.UseLocalhostClustering(siloPort: cluster.SiloPort, gatewayPort: 0, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
                silo.AddMemoryGrainStorage(BrokerStorage.Name);
                silo.UseInMemoryReminderService();
            }
            else
            {
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, cluster.ServiceId));
                silo.ConfigureEndpoints(cluster.AdvertisedAddress, cluster.SiloPort, gatewayPort: 0, listenOnAnyHostAddress: true);
                silo.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", settings.ConnectionString));
                silo.UsePostgresGrainStorage(settings.ConnectionString!);
            }
            silo.Configure<SiloOptions>(o => o.SiloName = cluster.SiloName);
            silo.UseBrokerGrainDefaults();
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                // A silo that stops answering is declared dead within about 10 s (docs/design.md §6): two
                // probes missed 2 s apart, then the votes of up to two others.
                o.ProbeTimeout = TimeSpan.FromSeconds(2);
                o.NumMissedProbesLimit = 2;
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
            });
            silo.Configure<GrainCollectionOptions>(o =>
            {
                o.CollectionAge = cluster.ActivationIdleTimeout;
                o.CollectionQuantum = cluster.ActivationIdleTimeout / 2 < TimeSpan.FromMinutes(1) ? cluster.ActivationIdleTimeout / 2 : TimeSpan.FromMinutes(1);
                // A stopping silo hands its activations over quickly: the host allows 15 s in all.
                o.DeactivationTimeout = TimeSpan.FromSeconds(5);
            });
        });
        return builder;
    }

    /// <summary>Grain state and reminders in PostgreSQL, on the tables and queries of the project's migrations.</summary>
    public static ISiloBuilder UsePostgresGrainStorage(this ISiloBuilder silo, string connectionString)
    {
        silo.AddAdoNetGrainStorage(BrokerStorage.Name, o =>
        {
            (o.Invariant, o.ConnectionString) = ("Npgsql", connectionString);
            // A grain's state is deleted, not left as an empty row, when it is cleared: pending logins,
            // hand-off codes and purged sessions are created once under a random key and never written
            // again, so no stale activation can revive a deleted row.
            o.DeleteStateOnClear = true;
        });
        // The range reads return only the earliest-due reminders (migration 6), so the list is read
        // often enough for the next ones to follow the ticks the silo has done.
        silo.Configure<ReminderOptions>(o => o.RefreshReminderListPeriod = TimeSpan.FromSeconds(5));
        return silo.UseAdoNetReminderService(o => (o.Invariant, o.ConnectionString) = ("Npgsql", connectionString));
    }
}

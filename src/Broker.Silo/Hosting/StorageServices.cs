using Broker.Grains.Events;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Broker.Silo.Postgres;
using Npgsql;

namespace Broker.Silo.Hosting;

public static class StorageServices
{
    /// <summary>Registers what the configured storage needs besides Orleans' own providers: on PostgreSQL
    /// the data source, the migration at start, the session index, tenant and user directories, the event log, storage housekeeping; and readiness.</summary>
    public static IServiceCollection AddBrokerStorage(this IServiceCollection services, SiloSettings settings)
    {
        var health = services.AddHealthChecks()
            .AddCheck<DrainingCheck>("draining", tags: ["ready"])
            .AddCheck<ClusterMembershipCheck>("cluster", tags: ["ready"]);
        if (settings.Storage == StorageKind.Memory)
            return services;
        services.AddSingleton(_ => NpgsqlDataSource.Create(settings.ConnectionString!));
        services.AddSingleton<ISessionIndex, PostgresSessionIndex>();
        services.AddSingleton<ITenantDirectory, PostgresTenantDirectory>();
        services.AddSingleton<ITenantEventLog, PostgresTenantEventLog>();
        services.AddSingleton<IUserDirectory, PostgresUserDirectory>();
        services.AddSingleton<PostgresMigrator>();
        // Before the Orleans silo (added after this): its providers read their queries at start.
        services.AddHostedService<MigrateOnStart>();
        services.AddHostedService<StorageHousekeeping>();
        health.AddCheck<PostgresReadinessCheck>("postgres", tags: ["ready"], timeout: TimeSpan.FromSeconds(3));
        return services;
    }
}

using Broker.Grains.Runtime;
using Broker.Grains.Sessions;
using Broker.Silo.Postgres;
using Npgsql;

namespace Broker.Silo.Hosting;

public static class StorageServices
{
    /// <summary>Registers the configured storage provider, its start-up migration and its readiness check.</summary>
    public static IServiceCollection AddBrokerStorage(this IServiceCollection services, SiloSettings settings)
    {
        var health = services.AddHealthChecks()
            .AddCheck<DrainingCheck>("draining", tags: ["ready"]);
        if (settings.Storage == StorageKind.Memory)
        {
            services.AddSingleton<IGrainStateStore, MemoryGrainStateStore>();
            services.AddSingleton<IReminderTable, MemoryReminderTable>();
            return services;
        }
        services.AddSingleton(_ => NpgsqlDataSource.Create(settings.ConnectionString!));
        services.AddSingleton<IGrainStateStore, PostgresGrainStateStore>();
        services.AddSingleton<IReminderTable, PostgresReminderTable>();
        services.AddSingleton<ISessionIndex, PostgresSessionIndex>();
        services.AddSingleton<PostgresMigrator>();
        // Registered before the grain runtime's services so the schema is in place before any reminder poll.
        services.AddHostedService<MigrateOnStart>();
        health.AddCheck<PostgresReadinessCheck>("postgres", tags: ["ready"], timeout: TimeSpan.FromSeconds(3));
        return services;
    }
}

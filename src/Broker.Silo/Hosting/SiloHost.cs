using Broker.Grains.Runtime;
using Broker.Silo.Postgres;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Broker.Silo.Hosting;

/// <summary>The composition root's steps, kept out of Program.cs so that it reads as a table of contents.</summary>
public static class SiloHost
{
    public static WebApplicationBuilder AddBrokerSilo(this WebApplicationBuilder builder, SiloSettings settings)
    {
        builder.Logging.ClearProviders().AddJsonConsole(o =>
        {
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        // DESIGN.md §6: a silo stopping on SIGTERM exits within 15 s.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton(settings.Reminders);
        builder.Services.AddSingleton(settings.Activations);
        builder.Services.AddBrokerStorage(settings);
        builder.Services.AddGrainRuntime(_ => { });
        return builder;
    }

    public static WebApplication MapOpsEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        return app;
    }

    /// <summary>The <c>migrate</c> command: applies migrations and exits, for a Kubernetes Job or an operator.</summary>
    public static async Task<int> MigrateAsync(this WebApplication app, SiloSettings settings)
    {
        if (settings.Storage != StorageKind.Postgres)
        {
            Console.Error.WriteLine("migrate: nothing to do, Broker:Storage is Memory (set Broker__Storage=Postgres and ConnectionStrings__Broker).");
            return 2;
        }
        var applied = await app.Services.GetRequiredService<PostgresMigrator>().MigrateAsync();
        Console.WriteLine($"Schema at version {PostgresMigrator.LatestVersion}; applied {(applied.Count == 0 ? "none" : string.Join(", ", applied))}.");
        return 0;
    }
}

using Broker.Api;
using Broker.Grains;
using Broker.Grains.Connectors;
using Broker.Grains.Sessions;
using Broker.Silo.Metrics;
using Microsoft.AspNetCore.DataProtection;
using Broker.Silo.Postgres;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Broker.Silo.Hosting;

/// <summary>The composition root's steps, kept out of Program.cs so that it reads as a table of contents.</summary>
public static class SiloHost
{
    public static WebApplicationBuilder AddBrokerSilo(this WebApplicationBuilder builder, SiloSettings settings)
    {
        // JSON for the log pipelines of a deployment; the usual console format for a person at a terminal.
        builder.Logging.ClearProviders();
        if (builder.Environment.IsDevelopment())
            builder.Logging.AddSimpleConsole(o => o.TimestampFormat = "HH:mm:ss ");
        else
            builder.Logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        // docs/design.md §6: a silo stopping on SIGTERM exits within 15 s.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        // docs/design.md §5: /metrics on a listener of its own, which no Ingress routes to.
        if (settings.ListenSetting is { } listen)
            builder.WebHost.UseSetting(listen.Key, listen.Value);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(settings.Cluster);
        builder.Services.AddHostedService<DrainDelay>();
        builder.Services.AddBrokerStorage(settings);
        builder.AddOrleansSilo(settings);
        AddDataProtection(builder.Services, settings);
        var publicBaseUrl = settings.Api.PublicBaseUrl;
        builder.Services.AddBrokerGrains(
            new BrokerGrainOptions { PublicBaseUrl = publicBaseUrl, ReminderPeriod = settings.Cluster.ReminderPeriod, MaxConcurrentRefreshes = settings.MaxConcurrentRefreshes },
            new ConnectorOptions
            {
                AllowHttpUpstreams = settings.AllowHttpUpstreams,
                DevIdpBaseUrl = settings.Api.DevIdpEnabled ? new Uri(publicBaseUrl, "dev-idp/") : null,
            });
        builder.Services.AddBrokerApi(settings.Api);
        builder.Services.AddSingleton(sp => new PrometheusMetrics(sp.GetRequiredService<ISessionIndex>().CountActive));
        return builder;
    }

    /// <summary>
    /// Secrets at rest are encrypted with the Data Protection key ring, so every silo must read the
    /// same ring: with <c>Broker:DataProtection:KeysDirectory</c> it lives in that (shared) directory;
    /// otherwise on PostgreSQL it lives in the database, wrapped by the master key; on Memory (one
    /// process) ASP.NET's per-machine default is enough.
    /// </summary>
    private static void AddDataProtection(IServiceCollection services, SiloSettings settings)
    {
        if (settings.DataProtectionKeysDirectory is { } directory)
            services.AddDataProtection().SetApplicationName("Broker").PersistKeysToFileSystem(new DirectoryInfo(directory));
        else
            services.AddBrokerDataProtection(settings.MasterKeys, keysInPostgres: settings.Storage == StorageKind.Postgres);
    }

    /// <summary>Lines for the person who started the silo, logged once it listens: the last lines of the
    /// start-up, and nothing chatty follows them (outbound HTTP logs at Warning), so they stay in view.</summary>
    public static WebApplication LogStartupNotes(this WebApplication app, SiloSettings settings)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Broker.Silo");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (settings.Api.DemoEnabled)
                logger.LogInformation("Demo app: {DemoUrl} (sign in with any username at the development IdP)", new Uri(settings.Api.PublicBaseUrl, "demo/"));
            if (settings.AdminTokenGenerated)
                logger.LogWarning("Development admin token (generated for this run; set Broker__AdminToken to fix one): {AdminToken}", settings.Api.AdminToken);
        });
        return app;
    }

    public static WebApplication MapOpsEndpoints(this WebApplication app)
    {
        // Created now, not at the first scrape: its listener only counts what happens after it starts.
        app.Services.GetRequiredService<PrometheusMetrics>();
        var routes = app.MapGroup("").AnswerHeadWhereGet().ExcludeFromDescription();
        routes.MapGet("/metrics", (PrometheusMetrics metrics) => Results.Text(metrics.Write(), "text/plain; version=0.0.4; charset=utf-8"));
        // Health checks take any method unless told otherwise; probes only GET (or HEAD).
        routes.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        routes.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
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

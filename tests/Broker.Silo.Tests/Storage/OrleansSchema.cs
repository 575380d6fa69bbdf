using System.Net;
using Broker.Grains;
using Broker.Silo.Hosting;
using Broker.Silo.Postgres;
using Broker.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;

namespace Broker.Silo.Tests.Storage;

/// <summary>
/// A fresh database with the project's migrations applied, for tests that run Orleans' own ADO.NET
/// providers on it. Its TimeZone is far from UTC, so a timestamp stored without its zone shows.
/// </summary>
internal sealed class OrleansSchemaDatabase : IAsyncDisposable
{
    private readonly TestDatabase _database;

    private OrleansSchemaDatabase(TestDatabase database, NpgsqlDataSource dataSource)
    {
        _database = database;
        DataSource = dataSource;
    }

    public string ConnectionString => _database.ConnectionString;

    public NpgsqlDataSource DataSource { get; }

    public static async Task<OrleansSchemaDatabase> CreateAsync()
    {
        var database = await TestDatabase.CreateAsync();
        var schema = new OrleansSchemaDatabase(database, database.CreateDataSource());
        try
        {
            await new PostgresMigrator(schema.DataSource).MigrateAsync();
            await schema.ExecuteAsync($"ALTER DATABASE \"{database.Name}\" SET TimeZone = 'Pacific/Chatham'");
            return schema;
        }
        catch
        {
            // The caller never gets it, so nobody else would drop it.
            await schema.DisposeAsync();
            throw;
        }
    }

    public async Task<int> ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<List<object?[]>> RowsAsync(string sql, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    // Positional parameters: $1, $2, ...
    private NpgsqlCommand Command(string sql, object[] parameters)
    {
        var command = DataSource.CreateCommand(sql);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }
}

/// <summary>A plain Orleans silo host (real TCP on loopback), stopped and disposed together.</summary>
internal sealed class OrleansSchemaSilo : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private OrleansSchemaSilo(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    /// <summary>A silo alone in its cluster with the broker's grain storage, reminders and grain defaults
    /// on PostgreSQL, as <see cref="OrleansSilo"/> configures them.</summary>
    public static Task<OrleansSchemaSilo> StartWithStorageAsync(string connectionString, string serviceId) =>
        StartAsync(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePorts.Next(), gatewayPort: 0, serviceId: serviceId, clusterId: "c-" + Guid.NewGuid().ToString("N"));
            silo.UsePostgresGrainStorage(connectionString);
            silo.UseBrokerGrainDefaults();
        });

    /// <summary>A member of a cluster whose membership lives in PostgreSQL; no storage, no grains activated.</summary>
    public static Task<OrleansSchemaSilo> StartMemberAsync(string connectionString, string clusterId, string serviceId, int siloPort) =>
        StartAsync(silo =>
        {
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, serviceId));
            silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort: 0);
            silo.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", connectionString));
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                // Three silos in one test process: probe and re-read the table often, so that every
                // change is seen within seconds (the defaults allow a minute).
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
            });
        });

    public T Service<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    /// <summary>Stops the silo gracefully: it leaves the cluster before the host goes.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
            return;
        _stopped = true;
        await _host.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }

    private static async Task<OrleansSchemaSilo> StartAsync(Action<ISiloBuilder> configure)
    {
        // No defaults: no appsettings or environment variables reach the silo, and nothing logs.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(configure);
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new OrleansSchemaSilo(host);
    }
}

/// <summary>
/// A schema test class's own database and service id, and the silo with the broker's storage that a test
/// starts on them (<see cref="StartSiloAsync"/>), disposed after each test.
/// </summary>
public abstract class OrleansSchemaTest : IAsyncLifetime
{
    private protected string ServiceId { get; } = "svc-" + Guid.NewGuid().ToString("N");

    private protected OrleansSchemaDatabase Database { get; private set; } = null!;

    private OrleansSchemaSilo? _silo;

    public async Task InitializeAsync() => Database = await OrleansSchemaDatabase.CreateAsync();

    private protected async Task<OrleansSchemaSilo> StartSiloAsync() =>
        _silo = await OrleansSchemaSilo.StartWithStorageAsync(Database.ConnectionString, ServiceId);

    public async Task DisposeAsync()
    {
        if (_silo is not null)
            await _silo.DisposeAsync();
        await Database.DisposeAsync();
    }
}

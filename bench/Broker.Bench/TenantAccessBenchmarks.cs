using BenchmarkDotNet.Attributes;
using Broker.Grains;
using Broker.Grains.Tenants;
using Broker.Silo.Hosting;
using Broker.Silo.Postgres;
using Broker.Testing;
using Broker.Testing.Runtime;
using Npgsql;

namespace Broker.Bench;

/// <summary>
/// What every tenant REST call asks first, on PostgreSQL: does the tenant exist, and is the bearer one
/// of its keys. Two grain turns (two state reads) against the one turn ApiChecks makes now. Needs
/// BROKER_TEST_PG, as the tests do.
/// </summary>
[MemoryDiagnoser]
public class TenantAccessBenchmarks
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private BrokerGrainsKit _kit = null!;
    private ITenantGrain _tenant = null!;
    private string _key = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = _database.CreateDataSource();
        await new PostgresMigrator(_dataSource).MigrateAsync();
        // The kit's tenant has one OIDC connection, so its state is the size of a real one's.
        _kit = await BrokerGrainsKit.StartAsync(storage: silo => silo.UsePostgresGrainStorage(_database.ConnectionString));
        _tenant = _kit.Grains.Tenant(_kit.TenantId);
        _key = (await _tenant.AddApiKeyAsync())!.ApiKey!;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _kit.DisposeAsync();
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>How ApiChecks asked before: the status in one turn, the key in another.</summary>
    [Benchmark(Baseline = true)]
    public async Task<bool> StatusThenKey() =>
        await _tenant.GetStatusAsync() == TenantStatus.Active && await _tenant.CheckApiKeyAsync(_key);

    /// <summary>How it asks now, for a key of the route's own tenant.</summary>
    [Benchmark]
    public async Task<bool> AccessInOneTurn() => (await _tenant.GetAccessAsync(_key)).KeyIsValid;
}

using Broker.Grains.Runtime;
using Broker.Silo.Postgres;
using Broker.Testing;
using Npgsql;

namespace Broker.Silo.Tests.Storage;

public sealed class PostgresStorageContractTests : StorageContractTests
{
    private TestDatabase? _database;
    private NpgsqlDataSource? _dataSource;

    protected override async Task<(IGrainStateStore, IReminderTable)> CreateStoresAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = _database.CreateDataSource();
        await new PostgresMigrator(_dataSource).MigrateAsync();
        return (new PostgresGrainStateStore(_dataSource), new PostgresReminderTable(_dataSource));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_dataSource is not null)
            await _dataSource.DisposeAsync();
        if (_database is not null)
            await _database.DisposeAsync();
    }
}

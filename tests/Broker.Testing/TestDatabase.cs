using Npgsql;

namespace Broker.Testing;

/// <summary>
/// A fresh, empty PostgreSQL database for one test class, made on the server named by
/// <c>BROKER_TEST_PG</c> (or <c>ConnectionStrings__Broker</c>) and dropped afterwards.
/// With neither set it fails: PostgreSQL tests never skip silently (scripts/test.sh provides one).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _serverConnectionString;

    private TestDatabase(string serverConnectionString, string name)
    {
        _serverConnectionString = serverConnectionString;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("BROKER_TEST_PG")
        ?? Environment.GetEnvironmentVariable("ConnectionStrings__Broker")
        ?? throw new InvalidOperationException(
            "No PostgreSQL for the tests: set BROKER_TEST_PG (or run scripts/test.sh, which provisions one).");

    public static async Task<TestDatabase> CreateAsync()
    {
        var database = new TestDatabase(ServerConnectionString, $"broker_test_{Guid.NewGuid():N}");
        await database.ExecuteOnServerAsync($"CREATE DATABASE \"{database.Name}\"");
        return database;
    }

    public NpgsqlDataSource CreateDataSource() => NpgsqlDataSource.Create(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    private async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_serverConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

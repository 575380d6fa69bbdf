using System.Net;
using Broker.Silo.Postgres;
using Broker.Testing;
using Broker.Testing.Processes;
using Npgsql;

namespace Broker.Silo.Tests.Hosting;

/// <summary>The silo on PostgreSQL as real processes: the migrate command, readiness while the database
/// goes away and comes back, and several migrators starting together.</summary>
public sealed class PostgresSiloProcessTests
{
    [Fact]
    public async Task Migrate_command_applies_the_schema_once_and_exits()
    {
        await using var database = await TestDatabase.CreateAsync();
        var environment = new Dictionary<string, string?>
        {
            ["Broker__Storage"] = "Postgres",
            ["ConnectionStrings__Broker"] = database.ConnectionString,
        };

        var first = await SiloProcess.RunAsync(environment, "migrate");
        var second = await SiloProcess.RunAsync(environment, "migrate");

        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.Contains($"Schema at version {PostgresMigrator.LatestVersion}; applied 1", first.StandardOutput);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("applied none", second.StandardOutput);
        await using var dataSource = database.CreateDataSource();
        Assert.Equal(PostgresMigrator.LatestVersion, await new PostgresMigrator(dataSource).CurrentVersionAsync());
    }

    [Fact]
    public async Task Migrators_starting_together_apply_each_script_exactly_once()
    {
        await using var database = await TestDatabase.CreateAsync();
        var dataSources = Enumerable.Range(0, 4).Select(_ => database.CreateDataSource()).ToList();

        var applied = await Task.WhenAll(dataSources.Select(ds => new PostgresMigrator(ds).MigrateAsync()));

        Assert.Equal(PostgresMigrator.Scripts.Count, applied.Sum(a => a.Count));
        await using var command = dataSources[0].CreateCommand("SELECT count(*) FROM broker_schema_migrations");
        Assert.Equal((long)PostgresMigrator.Scripts.Count, await command.ExecuteScalarAsync());
        foreach (var ds in dataSources)
            await ds.DisposeAsync();
    }

    [Fact]
    public async Task Readiness_fails_while_the_database_is_down_and_recovers_when_it_is_back()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Broker__Storage"] = "Postgres",
            ["ConnectionStrings__Broker"] = postgres.ConnectionString,
        });
        using var http = silo.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

        await postgres.StopServerAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await EventuallyAsync(http, HttpStatusCode.ServiceUnavailable));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode); // alive, just not ready

        await postgres.StartServerAsync();
        Assert.Equal(HttpStatusCode.OK, await EventuallyAsync(http, HttpStatusCode.OK));
    }

    [Fact]
    public async Task Readiness_fails_on_a_database_whose_schema_is_behind()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Broker__Storage"] = "Postgres",
            ["ConnectionStrings__Broker"] = database.ConnectionString,
        });
        using var http = silo.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var rollback = new NpgsqlCommand("DELETE FROM broker_schema_migrations", connection);
            await rollback.ExecuteNonQueryAsync();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz")).StatusCode);
    }

    /// <summary>Polls /readyz until it answers <paramref name="wanted"/> (or 30 s pass); returns the last answer.</summary>
    private static async Task<HttpStatusCode> EventuallyAsync(HttpClient http, HttpStatusCode wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode last;
        do
        {
            last = (await http.GetAsync("/readyz")).StatusCode;
            if (last == wanted)
                return last;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        return last;
    }
}

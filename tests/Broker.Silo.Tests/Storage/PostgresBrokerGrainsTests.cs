using Broker.Grains.Logins;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Silo.Postgres;
using Broker.Testing;
using Broker.Testing.Runtime;
using Npgsql;

namespace Broker.Silo.Tests.Storage;

/// <summary>The broker's grains over a real PostgreSQL: what lands in the rows, and races between silos.</summary>
public sealed class PostgresBrokerGrainsTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private BrokerGrainsKit _kit = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = _database.CreateDataSource();
        await new PostgresMigrator(_dataSource).MigrateAsync();
        _kit = await BrokerGrainsKit.StartAsync(new PostgresGrainStateStore(_dataSource), new PostgresReminderTable(_dataSource));
    }

    public async Task DisposeAsync()
    {
        await _kit.DisposeAsync();
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task The_raw_rows_hold_no_client_secret_no_token_and_no_pkce_verifier()
    {
        const string secret = "client-secret-that-must-never-be-stored-in-clear";
        await _kit.Grains.GetGrain<ITenantGrain>(_kit.TenantId).PutConnectionAsync(_kit.Provider.OidcConnection() with { Id = "other", ClientSecret = secret });
        await _kit.AuthorizeAsync(); // a pending login stays in storage
        var session = await _kit.LoginAsync();
        var token = Assert.IsType<TokenOutcome.Token>(await _kit.Session(session).GetTokenAsync(_kit.Tenant));

        var rows = new List<string>();
        await using (var command = _dataSource.CreateCommand("SELECT grain_type || ' ' || data::text FROM grain_state"))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                rows.Add(reader.GetString(0));

        Assert.Contains(rows, r => r.StartsWith("login ", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith("session ", StringComparison.Ordinal));
        var all = string.Join('\n', rows);
        Assert.DoesNotContain(secret, all);
        Assert.DoesNotContain(_kit.Provider.ClientSecret, all);
        Assert.DoesNotContain(token.AccessToken, all);
        Assert.DoesNotContain("eyJ", all); // no JWT (id_token) in clear
        foreach (var issued in _kit.Provider.IssuedRefreshTokens)
            Assert.DoesNotContain(issued, all);
        Assert.NotEmpty(_kit.Provider.IssuedRefreshTokens);
        Assert.Contains("protectedCodeVerifier", all);
    }

    [Fact]
    public async Task A_state_is_single_use_across_two_silos_on_one_database()
    {
        var other = _kit.StartSilo();
        for (var i = 0; i < 5; i++)
        {
            var (state, callback) = await _kit.AuthorizeAsync();

            var outcomes = await Task.WhenAll(
                _kit.Grains.GetGrain<IPendingLoginGrain>(state).CompleteAsync(_kit.Tenant, callback),
                other.Grains.GetGrain<IPendingLoginGrain>(state).CompleteAsync(_kit.Tenant, callback));

            Assert.Single(outcomes, o => o is CompleteLoginResult.Success);
            Assert.Single(outcomes, o => o is CompleteLoginResult.Rejected);
        }
        Assert.Equal(5, _kit.Provider.RequestsTo("/token").Count);
    }

    [Fact]
    public async Task Sessions_refresh_through_postgres_reminders()
    {
        _kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(5);
        var session = await _kit.LoginAsync();

        await _kit.AdvanceAsync(TimeSpan.FromMinutes(4));
        await _kit.AdvanceAsync(TimeSpan.FromMinutes(4));

        Assert.Equal(2, _kit.RefreshRequests);
        Assert.Equal("active", (await _kit.Session(session).GetAsync(_kit.Tenant))!.Status);
    }
}

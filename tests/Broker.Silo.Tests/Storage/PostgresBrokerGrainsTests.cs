using System.Collections.Concurrent;
using System.Diagnostics;
using Broker.Grains;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Silo.Hosting;
using Broker.Silo.Postgres;
using Broker.Testing;
using Broker.Testing.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit.Abstractions;

namespace Broker.Silo.Tests.Storage;

/// <summary>The broker's grains on the Orleans providers over a real PostgreSQL: what lands in the rows,
/// what a read costs, and the housekeeping of rows nobody will use again.</summary>
public sealed class PostgresBrokerGrainsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private BrokerGrainsKit _kit = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = _database.CreateDataSource();
        await new PostgresMigrator(_dataSource).MigrateAsync();
        _kit = await BrokerGrainsKit.StartAsync(
            storage: silo => silo.UsePostgresGrainStorage(_database.ConnectionString),
            services: s => s.AddSingleton<ISessionIndex>(new PostgresSessionIndex(_dataSource)).AddSingleton<ITenantDirectory>(new PostgresTenantDirectory(_dataSource))
                .AddSingleton<Broker.Grains.Events.ITenantEventLog>(new PostgresTenantEventLog(_dataSource))
                .AddSingleton<Broker.Grains.Users.IUserDirectory>(new PostgresUserDirectory(_dataSource)));
    }

    public async Task DisposeAsync()
    {
        await _kit.DisposeAsync();
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task The_rows_are_camel_case_json_with_no_type_names_secrets_tokens_or_pkce_verifier()
    {
        const string secret = "client-secret-that-must-never-be-stored-in-clear";
        await _kit.Grains.Tenant(_kit.TenantId).PutConnectionAsync(_kit.Provider.OidcConnection() with { Id = "other", ClientSecret = secret });
        await _kit.AuthorizeAsync(); // a pending login stays in storage
        var session = await _kit.LoginAsync();
        var token = Assert.IsType<TokenOutcome.Token>(await _kit.Session(session).GetTokenAsync(_kit.Tenant));

        var rows = await RowsAsync();

        Assert.Equal(["identity", "login", "session", "tenant", "user"], rows.Select(r => r.Type).Distinct().Order());
        var all = string.Join('\n', rows.Select(r => r.Json));
        Assert.DoesNotContain(secret, all);
        Assert.DoesNotContain(_kit.Provider.ClientSecret, all);
        Assert.DoesNotContain(token.AccessToken, all);
        Assert.DoesNotContain("eyJ", all); // no JWT (id_token) in clear
        Assert.NotEmpty(_kit.Provider.IssuedRefreshTokens);
        foreach (var issued in _kit.Provider.IssuedRefreshTokens)
            Assert.DoesNotContain(issued, all);
        Assert.Contains("\"protectedCodeVerifier\":", all);
        Assert.Contains("\"protectedAccessToken\":", all);
        Assert.DoesNotContain("$type", all);
        Assert.DoesNotContain("Broker.Grains", all);
        // What is derived from other fields is not stored with them.
        var stored = rows.Single(r => r.Type == "session").Json;
        Assert.DoesNotContain("\"expiresAt\":", stored);
        Assert.DoesNotContain("\"tenant\":{", all);
        // Keys carry a prefix that is no hex digit (Orleans #9706): every key is a string key.
        Assert.All(rows, r => Assert.Matches("^[tlsui]:", r.Key));
    }

    [Fact]
    public async Task Reading_an_active_session_and_its_fresh_token_touches_no_database()
    {
        _kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(10);
        var session = await _kit.LoginAsync();
        await _kit.Session(session).GetAsync(_kit.Tenant); // the activation exists and holds its state

        var reads = await CountCommandsAsync(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.NotNull(await _kit.Session(session).GetAsync(_kit.Tenant));
                Assert.IsType<TokenOutcome.Token>(await _kit.Session(session).GetTokenAsync(_kit.Tenant));
            }
        });
        var login = await CountCommandsAsync(() => _kit.LoginAsync());
        _kit.Clock.Advance(TimeSpan.FromMinutes(1)); // so that the refresh moves the session's next wake-up
        var refresh = await CountCommandsAsync(() => _kit.Session(session).RefreshAsync(_kit.Tenant));

        // The login and refresh figures may include a read of the reminder table by the reminder
        // service's own schedule (on the same fake clock): they are reported, not asserted.
        output.WriteLine($"database commands: 10 session views + 10 token GETs {reads}, one login {login}, one refresh {refresh}");
        Assert.Equal(0, reads);
        Assert.True(login > 0, "the counter counts the provider's commands");
        Assert.True(refresh > 0);
    }

    [Fact]
    public async Task A_session_refreshes_with_its_reminder_in_postgres()
    {
        _kit.Provider.AccessTokenLifetime = TimeSpan.FromMinutes(5);
        var session = await _kit.LoginAsync();
        var due = await ReminderStartAsync(session);
        Assert.Equal(_kit.Clock.GetUtcNow().AddMinutes(4), due, TimeSpan.FromSeconds(1));

        await _kit.AdvanceAsync(TimeSpan.FromMinutes(4));

        Assert.Equal(1, _kit.RefreshRequests);
        Assert.Equal("active", (await _kit.Session(session).GetAsync(_kit.Tenant))!.Status);
        // The reminder moved to the next refresh.
        Assert.Equal(_kit.Clock.GetUtcNow().AddMinutes(4), await ReminderStartAsync(session), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Housekeeping_deletes_pending_logins_nobody_completed_for_an_hour_and_nothing_else()
    {
        var (abandoned, _) = await _kit.AuthorizeAsync();
        var (fresh, _) = await _kit.AuthorizeAsync();
        await _kit.LoginAsync();
        await using (var age = _dataSource.CreateCommand("UPDATE orleansstorage SET modifiedon = now() - interval '2 hours' WHERE grainidextensionstring <> $1"))
        {
            age.Parameters.Add(new() { Value = "l:" + fresh });
            await age.ExecuteNonQueryAsync();
        }
        var before = await RowsAsync();

        var swept = await new StorageHousekeeping(_dataSource, new ClusterSettings
        {
            ClusterId = "unused", ServiceId = _kit.Cluster.Options.ServiceId, SiloName = "test", SiloPort = 1,
            AdvertisedAddress = System.Net.IPAddress.Loopback, ActivationIdleTimeout = TimeSpan.FromMinutes(1), ReminderPeriod = TimeSpan.FromSeconds(5),
        }, NullLogger<StorageHousekeeping>.Instance).SweepAsync();

        var after = await RowsAsync();
        Assert.Equal(1, swept);
        Assert.Contains(before, r => r.Key == "l:" + abandoned);
        Assert.DoesNotContain(after, r => r.Key == "l:" + abandoned);
        Assert.Contains(after, r => r.Key == "l:" + fresh);
        Assert.Equal(before.Count - 1, after.Count); // tenant, session and user stay, however old
    }

    // Two clusters that do not know each other over one database: each grain below has an activation
    // in both, as during a membership change. Only the conditional writes keep effects single.

    [Fact]
    public async Task A_state_completes_once_when_two_activations_race_it()
    {
        var other = await _kit.StartSplitBrainClusterAsync();
        var stranger = new Broker.Grains.Tenants.TenantRef("another-tenant", "");
        for (var i = 0; i < 5; i++)
        {
            var (state, callback) = await _kit.AuthorizeAsync();
            // Both activations load the pending login (a callback on another tenant's URL uses nothing up).
            await Task.WhenAll(_kit.Grains.PendingLogin(state).CompleteAsync(stranger, callback), other.PendingLogin(state).CompleteAsync(stranger, callback));

            var outcomes = await Task.WhenAll(
                _kit.Grains.PendingLogin(state).CompleteAsync(_kit.Tenant, callback),
                other.PendingLogin(state).CompleteAsync(_kit.Tenant, callback));

            Assert.Single(outcomes, o => o is Broker.Grains.Logins.CompleteLoginResult.Success);
            Assert.Single(outcomes, o => o is Broker.Grains.Logins.CompleteLoginResult.Rejected);
        }
        Assert.Equal(5, _kit.Provider.RequestsTo("/token").Count);
    }

    [Fact]
    public async Task A_handoff_code_is_redeemed_once_when_two_activations_race_it()
    {
        var other = await _kit.StartSplitBrainClusterAsync();
        var (state, callback) = await _kit.AuthorizeAsync();
        var success = Assert.IsType<Broker.Grains.Logins.CompleteLoginResult.Success>(await _kit.Grains.PendingLogin(state).CompleteAsync(_kit.Tenant, callback));
        var session = _kit.SessionOf(success.HandoffCode)!;
        Assert.True(await _kit.Grains.Session(session).CanRedeemHandoffAsync(_kit.Tenant));
        Assert.True(await other.Session(session).CanRedeemHandoffAsync(_kit.Tenant));

        var redeemed = await Task.WhenAll(_kit.RedeemAsync(success.HandoffCode), _kit.RedeemAsync(success.HandoffCode, through: other));

        Assert.Single(redeemed, r => r is not null);
    }

    [Fact]
    public async Task A_refresh_token_is_presented_once_when_two_activations_refresh_at_once()
    {
        var other = await _kit.StartSplitBrainClusterAsync();
        for (var i = 0; i < 5; i++)
        {
            var session = await _kit.LoginAsync();
            Assert.NotNull(await other.Session(session).GetAsync(_kit.Tenant)); // the second activation holds the state too
            var before = _kit.RefreshRequests;

            var outcomes = await Task.WhenAll(_kit.Session(session).RefreshAsync(_kit.Tenant), other.Session(session).RefreshAsync(_kit.Tenant));

            Assert.Equal(before + 1, _kit.RefreshRequests);
            Assert.Single(outcomes, o => o is TokenOutcome.Token);
        }
        Assert.Empty(_kit.Provider.RefusedRefreshes);
    }

    [Fact]
    public async Task The_tenant_directory_lists_active_tenants_and_migration_7_finds_those_created_before_it()
    {
        var directory = new PostgresTenantDirectory(_dataSource);
        var (kept, deleted) = ("t-kept-" + Guid.NewGuid().ToString("N")[..8], "t-gone-" + Guid.NewGuid().ToString("N")[..8]);
        await _kit.Grains.Tenant(kept).CreateAsync("Kept", []);
        await _kit.Grains.Tenant(deleted).CreateAsync("Gone", []);
        Assert.True(await _kit.Grains.Tenant(deleted).DeleteAsync());

        string[] expected = [.. new[] { _kit.TenantId, kept }.Order(StringComparer.Ordinal)];
        Assert.Equal(expected, await directory.ListAsync(null, 10));
        Assert.Equal(expected[1..], await directory.ListAsync(expected[0], 10));
        Assert.Equal(expected[..1], await directory.ListAsync(null, 1));

        // A database from before the directory: the table and its migration are not there yet. Migrating
        // finds the active tenants in their grain state, not the deleted one's tombstone.
        // (The migrations after 7 go too: a database of that version had none of them.)
        await using (var command = _dataSource.CreateCommand("DROP TABLE broker_tenants; DROP TABLE broker_events; DROP TABLE broker_users; DELETE FROM broker_schema_migrations WHERE version >= 7"))
            await command.ExecuteNonQueryAsync();
        Assert.Contains(7, await new PostgresMigrator(_dataSource).MigrateAsync());
        Assert.Equal(expected, await directory.ListAsync(null, 10));
    }

    [Fact]
    public async Task The_event_log_keeps_a_tenant_lifes_events_newest_first_filtered_and_sweeps_them_after_30_days()
    {
        var log = new PostgresTenantEventLog(_dataSource);
        var session = await _kit.LoginAsync(); // connection_changed (the kit's connection), login_succeeded
        await _kit.Session(session).EndAsync(_kit.Tenant, EndReasons.Logout);
        var other = new Broker.Grains.Tenants.TenantRef(_kit.TenantId, "another-life");
        await log.AppendAsync(other, Broker.Grains.Events.EventTypes.ConnectionDeleted, "oidc", null, null);

        var all = await log.ListAsync(_kit.Tenant, new Broker.Grains.Events.EventQuery(null, null, null, null, 100));

        Assert.Equal(["session_ended", "login_succeeded", "connection_changed"], all.Select(e => e.Type));
        Assert.Equal("logout", all[0].Detail["reason"]!.GetValue<string>());
        Assert.Equal(session, all[0].SessionId);
        Assert.Equal(["login_succeeded"], (await log.ListAsync(_kit.Tenant, new(null, null, all[0].UserId, null, 100))).Where(e => e.Type != "session_ended").Select(e => e.Type));
        Assert.Equal(["connection_changed"], (await log.ListAsync(_kit.Tenant, new(null, null, null, all[1].Id, 100))).Select(e => e.Type));
        Assert.Single(await log.ListAsync(other, new(null, null, null, null, 100))); // another life of the tenant sees only its own

        await using (var age = _dataSource.CreateCommand("UPDATE broker_events SET at = now() - interval '31 days' WHERE type = 'connection_changed'"))
            await age.ExecuteNonQueryAsync();
        await new StorageHousekeeping(_dataSource, new ClusterSettings
        {
            ClusterId = "unused", ServiceId = _kit.Cluster.Options.ServiceId, SiloName = "test", SiloPort = 1,
            AdvertisedAddress = System.Net.IPAddress.Loopback, ActivationIdleTimeout = TimeSpan.FromMinutes(1), ReminderPeriod = TimeSpan.FromSeconds(5),
        }, NullLogger<StorageHousekeeping>.Instance).SweepAsync();

        Assert.Equal(["session_ended", "login_succeeded"], (await log.ListAsync(_kit.Tenant, new(null, null, null, null, 100))).Select(e => e.Type));
    }

    private async Task<List<(string Type, string Key, string Json)>> RowsAsync()
    {
        var rows = new List<(string, string, string)>();
        await using var command = _dataSource.CreateCommand(
            "SELECT graintypestring, grainidextensionstring, convert_from(payloadbinary, 'UTF8') FROM orleansstorage WHERE payloadbinary IS NOT NULL");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        return rows;
    }

    private async Task<DateTimeOffset> ReminderStartAsync(string sessionId)
    {
        await using var command = _dataSource.CreateCommand("SELECT starttime FROM orleansreminderstable WHERE grainid = $1");
        command.Parameters.Add(new() { Value = "session/s:" + sessionId });
        return new DateTimeOffset((DateTime)(await command.ExecuteScalarAsync())!);
    }

    /// <summary>How many commands Npgsql sent (its own trace of each) while <paramref name="action"/> ran.</summary>
    private static async Task<int> CountCommandsAsync(Func<Task> action)
    {
        var commands = new ConcurrentBag<string>();
        var counting = true;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity =>
            {
                if (Volatile.Read(ref counting))
                    commands.Add(activity.DisplayName);
            },
        };
        ActivitySource.AddActivityListener(listener);
        await action();
        Volatile.Write(ref counting, false);
        return commands.Count;
    }
}

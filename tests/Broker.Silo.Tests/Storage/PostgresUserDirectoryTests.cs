using System.Diagnostics;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Broker.Silo.Postgres;
using Broker.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Broker.Silo.Tests.Storage;

/// <summary>The user directory on PostgreSQL (migration 9) at 10,000 users: paging, filters, changes, tenant lives.</summary>
public sealed class PostgresUserDirectoryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Users = 10_000;
    private static readonly TenantRef Tenant = new("acme", "life-2");
    private static readonly TenantRef EarlierLife = new("acme", "life-1");

    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private PostgresUserDirectory _directory = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = _database.CreateDataSource();
        await new PostgresMigrator(_dataSource).MigrateAsync();
        _directory = new PostgresUserDirectory(_dataSource);
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Ten_thousand_users_page_within_the_limit_with_none_twice_and_none_missing_while_users_are_added()
    {
        var created = await AddUsersAsync(Tenant, "user", Users);
        await AddUsersAsync(EarlierLife, "ghost", 50);

        // Paged through while 500 more sign up: each page within the limit, nobody twice, nobody of the 10,000 missing.
        var arriving = AddUsersAsync(Tenant, "late", 500);
        var seen = new List<string>();
        var latencies = new List<double>();
        long? after = null;
        do
        {
            var timer = Stopwatch.StartNew();
            var page = await _directory.ListAsync(Tenant, new UserQuery(null, null, 200, after));
            latencies.Add(timer.Elapsed.TotalMilliseconds);
            Assert.InRange(page.Items.Count, 0, 200);
            seen.AddRange(page.Items.Select(u => u.Id));
            after = page.Next;
        }
        while (after is not null);
        var late = await arriving;

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Empty(created.Except(seen));
        Assert.Empty(seen.Except(created).Except(late)); // nothing of the earlier life
        latencies.Sort();
        output.WriteLine($"{latencies.Count} pages of 200 at {Users:N0}+ users: median {latencies[latencies.Count / 2]:F1} ms, p95 {latencies[(int)(latencies.Count * 0.95)]:F1} ms, max {latencies[^1]:F1} ms");

        Assert.Equal(Users / 2 + late.Count / 2, await CountAsync(new UserQuery("github", null, 200, null)));
        Assert.Equal(10, await CountAsync(new UserQuery(null, "USER-0001", 200, null))); // user-00010 .. user-00019
        Assert.Equal(1, await CountAsync(new UserQuery(null, "user-00042@EXAMPLE.com", 200, null)));
        Assert.Equal(1, await CountAsync(new UserQuery(null, "sub-user-00042", 200, null))); // a subject, exactly
        Assert.Equal(0, await CountAsync(new UserQuery(null, "sub-user-0004", 200, null)));  // never a subject's prefix
        Assert.Equal(0, await CountAsync(new UserQuery(null, "%", 200, null)));
        Assert.Equal(0, await CountAsync(new UserQuery(null, "user_0", 200, null)));
        Assert.Equal(0, await CountAsync(new UserQuery("github", "user-00042", 200, null))); // filters combine: user-00042 signs in at qq
        output.WriteLine($"filtered by connection, {Users / 2:N0}+ matches: {await TimeAsync(new UserQuery("github", null, 200, null)):F1} ms for the first page; by q: {await TimeAsync(new UserQuery(null, "user-0999", 200, null)):F1} ms");
    }

    [Fact]
    public async Task A_change_replaces_the_summary_and_identities_keeps_the_position_and_a_removed_user_is_gone()
    {
        var first = Summary(UserIds.New(), "zed", 0);
        var second = Summary(UserIds.New(), "amy", 1);
        await _directory.UpsertAsync(Tenant, first);
        await _directory.UpsertAsync(Tenant, second);

        var changed = first with { Name = "Zed Again", Blocked = true, Identities = [new IdentityRef("qq", "q-1"), new IdentityRef("github", "g-1")] };
        await _directory.UpsertAsync(Tenant, changed);

        var page = await _directory.ListAsync(Tenant, new UserQuery(null, null, 10, null));
        Assert.Equal([first.Id, second.Id], page.Items.Select(u => u.Id)); // the change did not move it
        var stored = page.Items[0];
        Assert.Equal(("Zed Again", true), (stored.Name, stored.Blocked));
        Assert.Equal(changed.Identities, stored.Identities);
        Assert.Equal(changed.CreatedAt, stored.CreatedAt);
        Assert.Null(page.Next);
        Assert.Equal([first.Id], (await _directory.ListAsync(Tenant, new UserQuery("github", null, 10, null))).Items.Select(u => u.Id));

        await _directory.RemoveAsync(first.Id);
        Assert.Equal([second.Id], (await _directory.ListAsync(Tenant, new UserQuery(null, null, 10, null))).Items.Select(u => u.Id));
        Assert.Empty((await _directory.ListAsync(Tenant, new UserQuery(null, "q-1", 10, null))).Items);
    }

    private async Task<List<string>> AddUsersAsync(TenantRef tenant, string prefix, int count)
    {
        var ids = Enumerable.Range(1, count).Select(_ => UserIds.New()).ToList();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) => await _directory.UpsertAsync(tenant, Summary(ids[i], $"{prefix}-{i + 1:D5}", i)));
        return ids;
    }

    private static UserSummary Summary(string id, string name, int i) => new(
        id, name, $"{name}@example.com", null, false,
        new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero).AddSeconds(i), null,
        [new IdentityRef(i % 2 == 0 ? "github" : "qq", $"sub-{name}")]);

    private async Task<int> CountAsync(UserQuery query)
    {
        var total = 0;
        for (UserPage page = await _directory.ListAsync(Tenant, query); ; page = await _directory.ListAsync(Tenant, query with { After = page.Next }))
        {
            total += page.Items.Count;
            if (page.Next is null)
                return total;
        }
    }

    private async Task<double> TimeAsync(UserQuery query)
    {
        var timer = Stopwatch.StartNew();
        await _directory.ListAsync(Tenant, query);
        return timer.Elapsed.TotalMilliseconds;
    }
}

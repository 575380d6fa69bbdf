using Broker.Grains;
using Broker.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;

namespace Broker.Silo.Tests.Storage;

/// <summary>
/// Several writers write the first state of one grain at once (two activations after a split, or a
/// retried call). The schema's unique identity index must let exactly one win.
/// </summary>
public sealed class PostgresOrleansSchemaRaceTests : OrleansSchemaTest
{
    private const string StateName = "probe";
    private const int Writers = 5;

    // A barrier inside the first-insert statement, after its snapshot is taken: each writer waits for a
    // shared advisory lock that the test holds exclusively until every writer is waiting. On two cores
    // the writers would otherwise rarely overlap, and a test that never overlaps proves nothing.
    private const long BarrierKey = 0x5C4E_3A01;

    [Theory]
    [InlineData("string")]
    [InlineData("guid")] // no key extension: grainidextensionstring is NULL, so this needs NULLS NOT DISTINCT
    public async Task Of_several_first_writes_at_once_exactly_one_wins_and_the_grain_stays_readable(string keyKind)
    {
        // Before the silo starts: the provider reads its query texts once, at start.
        var patched = await Database.ScalarAsync<string>(
            "UPDATE orleansquery SET querytext = replace(querytext, 'now(), 1', $1) WHERE querykey = 'WriteToStorageKey' RETURNING querytext",
            $"now(), 1 FROM (SELECT pg_advisory_xact_lock_shared({BarrierKey})) AS barrier");
        Assert.Contains("barrier", patched);
        var storage = (await StartSiloAsync()).Services.GetRequiredKeyedService<IGrainStorage>(BrokerStorage.Name);
        var id = keyKind == "string"
            ? GrainId.Create("probe", "p-" + Guid.NewGuid().ToString("N"))
            : GrainId.Create(GrainType.Create("probe"), GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid()));

        await using var barrier = await Database.DataSource.OpenConnectionAsync();
        await using (var hold = new NpgsqlCommand($"SELECT pg_advisory_lock({BarrierKey})", barrier))
            await hold.ExecuteNonQueryAsync();
        var writes = Enumerable.Range(1, Writers).Select(writer => FirstWriteAsync(storage, id, writer)).ToList();
        await Eventually.HoldsAsync(async () => await WaitingAtBarrierAsync() == Writers, $"all {Writers} writers inside the insert");
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({BarrierKey})", barrier))
            await release.ExecuteNonQueryAsync();
        var results = await Task.WhenAll(writes);

        // Any other exception (a unique violation, say) fails the test from inside FirstWriteAsync.
        var winner = Assert.Single(results, r => r.Won);
        Assert.Equal(Writers - 1, results.Count(r => !r.Won));
        Assert.Equal(1L, await Database.ScalarAsync<long>("SELECT count(*) FROM orleansstorage WHERE serviceid = $1", ServiceId));
        var read = new GrainState<ProbeState>(new ProbeState());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.Equal(("1", winner.Writer), (read.ETag, read.State!.Count));
        read.State.Count = 100;
        await storage.WriteStateAsync(StateName, id, read);
        Assert.Equal("2", read.ETag);
    }

    private static async Task<(int Writer, bool Won)> FirstWriteAsync(IGrainStorage storage, GrainId id, int writer)
    {
        try
        {
            await storage.WriteStateAsync(StateName, id, new GrainState<ProbeState>(new ProbeState { Count = writer }));
            return (writer, true);
        }
        catch (InconsistentStateException)
        {
            return (writer, false);
        }
    }

    private Task<long> WaitingAtBarrierAsync() => Database.ScalarAsync<long>("""
        SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND objid::bigint = $1
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """, BarrierKey);
}

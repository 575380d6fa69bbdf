using System.Text.Json;
using Broker.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Broker.Silo.Tests.Storage;

/// <summary>
/// Grain state through Orleans' own ADO.NET storage provider on the project's schema (0004_orleans.sql),
/// configured as the silo configures it: the "broker" provider, System.Text.Json with camelCase names,
/// and a clear that deletes the row.
/// </summary>
public sealed class PostgresOrleansSchemaTests : OrleansSchemaTest
{
    private const string StateName = "probe";

    [Fact]
    public async Task State_written_by_one_silo_is_read_by_another_from_a_row_of_plain_camel_case_json()
    {
        var id = NewGrainId();
        await using (var writer = await OrleansSchemaSilo.StartWithStorageAsync(Database.ConnectionString, ServiceId))
        {
            var written = new GrainState<ProbeState>(new ProbeState { Count = 2, DisplayName = "Ada", Tags = ["a", "b"] });
            await Storage(writer).WriteStateAsync(StateName, id, written);
            Assert.Equal("1", written.ETag);
        }

        await using var reader = await OrleansSchemaSilo.StartWithStorageAsync(Database.ConnectionString, ServiceId);
        var read = new GrainState<ProbeState>(new ProbeState());
        await Storage(reader).ReadStateAsync(StateName, id, read);

        Assert.True(read.RecordExists);
        Assert.Equal("1", read.ETag);
        Assert.Equal((2, "Ada"), (read.State!.Count, read.State.DisplayName));
        Assert.Equal(["a", "b"], read.State.Tags);
        var row = Assert.Single(await Database.RowsAsync("""
            SELECT graintypestring, grainidextensionstring, convert_from(payloadbinary, 'UTF8'),
                   pg_typeof(modifiedon)::text, version
            FROM orleansstorage WHERE serviceid = $1
            """, ServiceId));
        Assert.Equal(StateName, row[0]); // the state name, not a .NET type
        Assert.Equal(id.Key.ToString(), row[1]);
        Assert.Equal("timestamp with time zone", row[3]);
        Assert.Equal(1, row[4]);
        var json = (string)row[2]!;
        using var document = JsonDocument.Parse(json);
        Assert.Equal(["count", "displayName", "tags"], document.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("$type", json);
        Assert.DoesNotContain(nameof(ProbeState), json);
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_refused_and_changes_nothing()
    {
        var storage = await StartAsync();
        var id = NewGrainId();
        var current = new GrainState<ProbeState>(new ProbeState { Count = 1 });
        await storage.WriteStateAsync(StateName, id, current);
        var stale = await ReadAsync(storage, id);
        current.State!.Count = 2;
        await storage.WriteStateAsync(StateName, id, current);

        stale.State!.Count = 99;
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, stale));

        Assert.Equal(("2", 2), await StoredAsync(id));
    }

    [Fact]
    public async Task A_first_write_over_an_existing_row_is_refused()
    {
        var storage = await StartAsync();
        var id = NewGrainId();
        await storage.WriteStateAsync(StateName, id, new GrainState<ProbeState>(new ProbeState { Count = 1 }));

        var blind = new GrainState<ProbeState>(new ProbeState { Count = 7 }); // no etag: "this grain has no state yet"
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, blind));

        Assert.Equal(("1", 1), await StoredAsync(id));
    }

    [Fact]
    public async Task A_clear_with_a_stale_etag_is_refused_and_keeps_the_row()
    {
        var storage = await StartAsync();
        var id = NewGrainId();
        var current = new GrainState<ProbeState>(new ProbeState { Count = 1 });
        await storage.WriteStateAsync(StateName, id, current);
        var stale = await ReadAsync(storage, id);
        current.State!.Count = 2;
        await storage.WriteStateAsync(StateName, id, current);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, id, stale));

        Assert.Equal(("2", 2), await StoredAsync(id));
    }

    [Fact]
    public async Task A_clear_with_the_current_etag_deletes_the_row_and_the_grain_can_start_again()
    {
        var storage = await StartAsync();
        var id = NewGrainId();
        var other = NewGrainId();
        var state = new GrainState<ProbeState>(new ProbeState { Count = 1 });
        await storage.WriteStateAsync(StateName, id, state);
        await storage.WriteStateAsync(StateName, other, new GrainState<ProbeState>(new ProbeState { Count = 5 }));
        state.State!.Count = 2;
        await storage.WriteStateAsync(StateName, id, state);

        await storage.ClearStateAsync(StateName, id, state);

        Assert.False(state.RecordExists);
        Assert.Equal(0L, await Database.ScalarAsync<long>(
            "SELECT count(*) FROM orleansstorage WHERE serviceid = $1 AND grainidextensionstring = $2", ServiceId, id.Key.ToString()!));
        Assert.Equal(("1", 5), await StoredAsync(other));
        var after = await ReadAsync(storage, id);
        Assert.False(after.RecordExists);
        Assert.Null(after.ETag);
        // Deleted, not emptied: the grain's next write (same state object) is a first write again.
        Assert.Null(state.ETag);
        state.State!.Count = 3;
        await storage.WriteStateAsync(StateName, id, state);
        Assert.Equal(("1", 3), await StoredAsync(id));
    }

    private async Task<IGrainStorage> StartAsync() => Storage(await StartSiloAsync());

    private static IGrainStorage Storage(OrleansSchemaSilo silo) =>
        silo.Services.GetRequiredKeyedService<IGrainStorage>(BrokerStorage.Name);

    private static GrainId NewGrainId() => GrainId.Create("probe", "p-" + Guid.NewGuid().ToString("N"));

    private static async Task<GrainState<ProbeState>> ReadAsync(IGrainStorage storage, GrainId id)
    {
        var state = new GrainState<ProbeState>(new ProbeState());
        await storage.ReadStateAsync(StateName, id, state);
        return state;
    }

    /// <summary>The row's version and the count in its JSON, read with SQL rather than the provider.</summary>
    private async Task<(string Version, int Count)> StoredAsync(GrainId id)
    {
        var row = Assert.Single(await Database.RowsAsync("""
            SELECT version::text, (convert_from(payloadbinary, 'UTF8')::jsonb ->> 'count')::int
            FROM orleansstorage WHERE serviceid = $1 AND graintypestring = $2 AND grainidextensionstring = $3
            """, ServiceId, StateName, id.Key.ToString()!));
        return ((string)row[0]!, (int)row[1]!);
    }
}

/// <summary>A grain state of the tests' own: the schema must not care what the state is.</summary>
public sealed class ProbeState
{
    public int Count { get; set; }

    public string DisplayName { get; set; } = "";

    public List<string> Tags { get; set; } = [];
}

using Npgsql;

namespace Broker.Silo.Tests.Storage;

/// <summary>
/// Reminders through Orleans' own ADO.NET reminder table on the project's schema. Every silo reads the
/// reminders of its part of the hash ring, so the range reads decide which reminders fire at all.
/// </summary>
public sealed class PostgresOrleansSchemaReminderTests : OrleansSchemaTest
{
    // Twelve minutes ahead: inside what the range reads return (due within 20 minutes), outside the
    // silo's own loading window (10 minutes), so that its reminder service never fires these rows.
    private readonly DateTime _startAt = new DateTime(DateTime.UtcNow.AddMinutes(12).Ticks / 10 * 10, DateTimeKind.Utc);

    [Fact]
    public async Task A_reminder_is_upserted_read_and_removed_only_with_its_current_etag()
    {
        var table = await StartAsync();
        var grain = NewGrainId();
        var other = NewGrainId();
        Assert.Equal("0", await table.UpsertRow(Entry(grain, "wake", TimeSpan.FromMinutes(1))));
        Assert.Equal("0", await table.UpsertRow(Entry(grain, "purge", TimeSpan.FromHours(1))));
        Assert.Equal("0", await table.UpsertRow(Entry(other, "wake", TimeSpan.FromMinutes(1))));

        Assert.Equal("1", await table.UpsertRow(Entry(grain, "wake", TimeSpan.FromMinutes(5))));

        var wake = await table.ReadRow(grain, "wake");
        Assert.NotNull(wake);
        Assert.Equal((grain, "wake", "1", TimeSpan.FromMinutes(5)), (wake.GrainId, wake.ReminderName, wake.ETag, wake.Period));
        Assert.Equal(_startAt, wake.StartAt.ToUniversalTime()); // to the microsecond, whatever the database's TimeZone
        Assert.Equal(["purge", "wake"], (await table.ReadRows(grain)).Reminders.Select(r => r.ReminderName).Order(StringComparer.Ordinal));
        Assert.Null(await table.ReadRow(grain, "missing"));

        Assert.False(await table.RemoveRow(grain, "wake", "0"));
        Assert.NotNull(await table.ReadRow(grain, "wake"));
        Assert.True(await table.RemoveRow(grain, "wake", "1"));
        Assert.Null(await table.ReadRow(grain, "wake"));
        Assert.False(await table.RemoveRow(grain, "wake", "1"));

        Assert.Equal(["purge"], (await table.ReadRows(grain)).Reminders.Select(r => r.ReminderName));
        Assert.Equal(["wake"], (await table.ReadRows(other)).Reminders.Select(r => r.ReminderName));
    }

    [Fact]
    public async Task Ring_range_reads_return_exactly_the_reminders_whose_grain_hash_is_in_the_range()
    {
        var table = await StartAsync();
        var hashes = new Dictionary<GrainId, uint>();
        for (var i = 0; i < 300; i++)
        {
            var grain = NewGrainId();
            hashes[grain] = grain.GetUniformHashCode();
            await table.UpsertRow(Entry(grain, "wake", TimeSpan.FromMinutes(1)));
        }
        // The same reminders under another service: a range read must never return them.
        await Database.ExecuteAsync("""
            INSERT INTO orleansreminderstable (serviceid, grainid, remindername, starttime, period, grainhash, version)
            SELECT 'another-service', grainid, remindername, starttime, period, grainhash, version
            FROM orleansreminderstable WHERE serviceid = $1
            """, ServiceId);
        var random = new Random(20261130);
        var ranges = new List<(uint Begin, uint End)>
        {
            (0, 0), (0x1234_5678, 0x1234_5678), (uint.MaxValue, uint.MaxValue), // the whole ring
            (0, 0x7FFF_FFFF), (0x7FFF_FFFF, uint.MaxValue),                      // each half of the signed space
            (0x4000_0000, 0xC000_0000), (0xC000_0000, 0x4000_0000),              // across the sign boundary, both ways
            (0x1000_0000, 0x3000_0000), (0xD000_0000, 0xF000_0000),              // inside one half
            (0xF000_0000, 0x1000_0000),                                          // wrapping past zero
        };
        for (var i = 0; i < 30; i++)
            ranges.Add(((uint)random.NextInt64(0, 1L << 32), (uint)random.NextInt64(0, 1L << 32)));
        // Ends that are reminders' own hashes, so that an open end read as closed (or the reverse) shows;
        // both orders, so that both stored range queries (within and across the signed order) are used.
        var sorted = hashes.Values.Order().ToList();
        for (var i = 0; i < 10; i++)
        {
            var (low, high) = (sorted[i * 29], sorted[i * 29 + 17]);
            ranges.AddRange([(low, high), (high, low), (low, low)]);
        }

        foreach (var (begin, end) in ranges)
        {
            // The ring range (begin, end], wrapping past uint.MaxValue when begin >= end.
            var expected = hashes.Where(h => begin < end ? h.Value > begin && h.Value <= end : h.Value > begin || h.Value <= end)
                .Select(h => h.Key.ToString()).Order(StringComparer.Ordinal).ToList();
            var actual = (await table.ReadRows(begin, end)).Reminders
                .Select(r => r.GrainId.ToString()).Order(StringComparer.Ordinal).ToList();
            Assert.True(expected.SequenceEqual(actual), $"({begin:X8}, {end:X8}]: expected {expected.Count} reminders, read {actual.Count}");
        }
        Assert.Equal(300, (await table.ReadRows(0, 0)).Reminders.Count);
    }

    [Fact]
    public async Task Range_reads_return_reminders_due_soon_or_past_but_not_those_due_later()
    {
        var table = await StartAsync();
        var (past, soon, later) = (NewGrainId(), NewGrainId(), NewGrainId());
        var (pastEntry, laterEntry) = (Entry(past, "wake", TimeSpan.FromMinutes(1)), Entry(later, "wake", TimeSpan.FromMinutes(1)));
        pastEntry.StartAt = DateTime.UtcNow.AddHours(-1);
        laterEntry.StartAt = DateTime.UtcNow.AddHours(1);
        await table.UpsertRow(pastEntry);
        await table.UpsertRow(Entry(soon, "wake", TimeSpan.FromMinutes(1)));
        await table.UpsertRow(laterEntry);

        var read = (await table.ReadRows(0, 0)).Reminders.Select(r => r.GrainId).ToList();

        // A silo keeps in memory only what is due within its loading window: an idle session's
        // reminder, hours away, stays in the table until a later read.
        Assert.Contains(past, read);
        Assert.Contains(soon, read);
        Assert.DoesNotContain(later, read);
        Assert.Single((await table.ReadRows(later)).Reminders); // read by its grain, it is there
    }

    [Fact]
    public async Task A_range_read_returns_the_earliest_due_reminders_up_to_its_share_of_ten_thousand()
    {
        var table = await StartAsync();
        // 12,000 reminders a millisecond apart, twelve minutes ahead (read, never fired), their hashes
        // spread over the ring by a multiplicative hash.
        await Database.ExecuteAsync("""
            INSERT INTO orleansreminderstable (serviceid, grainid, remindername, starttime, period, grainhash, version)
            SELECT $1, 'reminderprobe/q-' || i, 'wake', $2::timestamptz + i * interval '1 millisecond', 60000,
                   ((i * 2654435761) % 4294967296 - 2147483648)::integer, 0
            FROM generate_series(1, 12000) AS i
            """, ServiceId, _startAt);
        var all = (await Database.RowsAsync("SELECT grainid, grainhash FROM orleansreminderstable WHERE serviceid = $1 ORDER BY starttime", ServiceId))
            .Select(row => (GrainId: (string)row[0]!, Hash: (int)row[1]!)).ToList();

        foreach (var (begin, end, limit) in new (uint, uint, int)[] { (0, 0, 10_050), (0, 0x8000_0000, 5_050), (0xC000_0000, 0x4000_0000, 5_050), (0x1000_0000, 0x2000_0000, 675) })
        {
            var inRange = all.Where(r => (uint)r.Hash is var h && (begin < end ? h > begin && h <= end : h > begin || h <= end)).ToList();
            Assert.True(inRange.Count > limit, $"({begin:X8}, {end:X8}]: {inRange.Count} rows, not more than the limit");
            var read = (await table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId.ToString()).ToList();
            Assert.Equal(limit, read.Count);
            Assert.Equal(inRange.Take(limit).Select(r => r.GrainId).Order(StringComparer.Ordinal), read.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task The_range_reads_use_an_index()
    {
        var definition = await Database.ScalarAsync<string>(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'orleansreminderstable' AND indexname = 'orleansreminderstable_hash'");
        Assert.EndsWith("(serviceid, grainhash)", definition);
        Assert.EndsWith("(serviceid, starttime)", await Database.ScalarAsync<string>(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'orleansreminderstable' AND indexname = 'orleansreminderstable_due'"));

        // The providers' own query texts, planned as the provider sends them (parameters, not literals).
        // Sequential scans are off: on a small table one would be cheaper, and the question is whether
        // the index can serve the query at all.
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        await ExecuteAsync(connection, "SET enable_seqscan = off");
        foreach (var key in new[] { "ReadRangeRows1Key", "ReadRangeRows2Key" })
        {
            var query = (await Database.ScalarAsync<string>("SELECT querytext FROM orleansquery WHERE querykey = $1", key))
                .Replace("@ServiceId", "$1").Replace("@BeginHash", "$2").Replace("@EndHash", "$3");
            await ExecuteAsync(connection, $"PREPARE range_read(varchar, integer, integer) AS {query}");
            var plan = new List<string>();
            await using (var explain = new NpgsqlCommand($"EXPLAIN EXECUTE range_read('{ServiceId}', -1000, 1000000)", connection))
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                    plan.Add(reader.GetString(0));
            }
            await ExecuteAsync(connection, "DEALLOCATE range_read");
            Assert.True(plan.Any(line => line.Contains("orleansreminderstable_hash", StringComparison.Ordinal) || line.Contains("orleansreminderstable_due", StringComparison.Ordinal)),
                $"{key}:\n{string.Join('\n', plan)}");
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<IReminderTable> StartAsync() => (await StartSiloAsync()).Service<IReminderTable>();

    private ReminderEntry Entry(GrainId grain, string name, TimeSpan period) =>
        new() { GrainId = grain, ReminderName = name, StartAt = _startAt, Period = period };

    private static GrainId NewGrainId() => GrainId.Create("reminderprobe", "r-" + Guid.NewGuid().ToString("N"));
}

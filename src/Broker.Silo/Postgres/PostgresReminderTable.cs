using Broker.Grains.Runtime;
using Npgsql;

namespace Broker.Silo.Postgres;

/// <summary>Reminder rows in PostgreSQL. Claims use <c>FOR UPDATE SKIP LOCKED</c>, so silos polling at
/// once take disjoint batches without waiting on each other.</summary>
public sealed class PostgresReminderTable(NpgsqlDataSource dataSource) : IReminderTable
{
    private const string Columns = "grain_type, grain_key, name, due_at, period_ms, generation";

    public async Task UpsertAsync(GrainId grain, string name, DateTimeOffset dueAt, TimeSpan? period, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO reminders (grain_type, grain_key, name, due_at, period_ms, generation)
            VALUES ($1, $2, $3, $4, $5, 1)
            ON CONFLICT (grain_type, grain_key, name) DO UPDATE
            SET due_at = EXCLUDED.due_at, period_ms = EXCLUDED.period_ms,
                generation = reminders.generation + 1, lease_owner = NULL, lease_until = NULL
            """);
        AddKey(command, grain, name);
        command.Parameters.Add(new() { Value = dueAt.UtcDateTime });
        command.Parameters.Add(new() { Value = period is { } p ? (long)p.TotalMilliseconds : DBNull.Value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<ReminderEntry?> ReadAsync(GrainId grain, string name, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} FROM reminders WHERE grain_type = $1 AND grain_key = $2 AND name = $3");
        AddKey(command, grain, name);
        var rows = await ReadEntriesAsync(command, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task DeleteAsync(GrainId grain, string name, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "DELETE FROM reminders WHERE grain_type = $1 AND grain_key = $2 AND name = $3");
        AddKey(command, grain, name);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ReminderEntry>> ClaimDueAsync(string siloId, DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH due AS (
                SELECT grain_type, grain_key, name FROM reminders
                WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
                ORDER BY due_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            UPDATE reminders r SET lease_owner = $3, lease_until = $4
            FROM due
            WHERE r.grain_type = due.grain_type AND r.grain_key = due.grain_key AND r.name = due.name
            RETURNING {string.Join(", ", Columns.Split(", ").Select(c => "r." + c))}
            """);
        command.Parameters.Add(new() { Value = now.UtcDateTime });
        command.Parameters.Add(new() { Value = max });
        command.Parameters.Add(new() { Value = siloId });
        command.Parameters.Add(new() { Value = (now + lease).UtcDateTime });
        return await ReadEntriesAsync(command, cancellationToken);
    }

    public async Task CompleteAsync(ReminderEntry claimed, string siloId, DateTimeOffset? nextDueAt, CancellationToken cancellationToken = default)
    {
        const string owned = "grain_type = $1 AND grain_key = $2 AND name = $3 AND generation = $4 AND lease_owner = $5";
        await using var command = dataSource.CreateCommand(nextDueAt is null
            ? $"DELETE FROM reminders WHERE {owned}"
            : $"UPDATE reminders SET due_at = $6, lease_owner = NULL, lease_until = NULL WHERE {owned}");
        AddKey(command, claimed.Grain, claimed.Name);
        command.Parameters.Add(new() { Value = claimed.Generation });
        command.Parameters.Add(new() { Value = siloId });
        if (nextDueAt is { } next)
            command.Parameters.Add(new() { Value = next.UtcDateTime });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task ReleaseAsync(string siloId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE reminders SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1");
        command.Parameters.Add(new() { Value = siloId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddKey(NpgsqlCommand command, GrainId grain, string name)
    {
        command.Parameters.Add(new() { Value = grain.Type });
        command.Parameters.Add(new() { Value = grain.Key });
        command.Parameters.Add(new() { Value = name });
    }

    private static async Task<List<ReminderEntry>> ReadEntriesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var entries = new List<ReminderEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            entries.Add(new ReminderEntry(
                new GrainId(reader.GetString(0), reader.GetString(1)),
                reader.GetString(2),
                new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero),
                reader.IsDBNull(4) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(4)),
                reader.GetInt64(5)));
        return entries;
    }
}

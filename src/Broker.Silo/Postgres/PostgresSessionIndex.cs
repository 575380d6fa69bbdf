using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Npgsql;

namespace Broker.Silo.Postgres;

/// <summary>The session index in the table <c>broker_sessions</c>.</summary>
public sealed class PostgresSessionIndex(NpgsqlDataSource dataSource) : ISessionIndex
{
    public async Task AddAsync(TenantRef tenant, IndexedSession session)
    {
        // A repeated start (a retried call) finds its row already there.
        await using var command = dataSource.CreateCommand("""
            INSERT INTO broker_sessions (session_id, tenant_id, incarnation, connection, user_id)
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id) DO NOTHING
            """);
        foreach (var value in new[] { session.SessionId, tenant.Id, tenant.Incarnation, session.ConnectionId, session.UserId })
            command.Parameters.Add(new() { Value = value });
        await command.ExecuteNonQueryAsync();
    }

    public async Task MarkEndedAsync(string sessionId)
    {
        await using var command = dataSource.CreateCommand("UPDATE broker_sessions SET ended_at = now() WHERE session_id = $1 AND ended_at IS NULL");
        command.Parameters.Add(new() { Value = sessionId });
        await command.ExecuteNonQueryAsync();
    }

    public long CountActive()
    {
        using var command = dataSource.CreateCommand("SELECT count(*) FROM broker_sessions WHERE ended_at IS NULL");
        return (long)command.ExecuteScalar()!;
    }

    public async Task RemoveAsync(IReadOnlyCollection<string> sessionIds)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM broker_sessions WHERE session_id = ANY($1)");
        command.Parameters.Add(new() { Value = sessionIds.ToArray() });
        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<IndexedSession>> ListAsync(TenantRef tenant, int limit)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT session_id, connection, user_id FROM broker_sessions WHERE tenant_id = $1 AND incarnation = $2 LIMIT $3");
        command.Parameters.Add(new() { Value = tenant.Id });
        command.Parameters.Add(new() { Value = tenant.Incarnation });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync();
        var sessions = new List<IndexedSession>();
        while (await reader.ReadAsync())
            sessions.Add(new IndexedSession(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        return sessions;
    }
}

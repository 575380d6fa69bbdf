using System.Text.Json.Nodes;
using Broker.Grains.Events;
using Broker.Grains.Tenants;
using Npgsql;
using NpgsqlTypes;

namespace Broker.Silo.Postgres;

/// <summary>The audit trail in the table <c>broker_events</c> (migration 8); the housekeeping deletes rows older than 30 days.</summary>
public sealed class PostgresTenantEventLog(NpgsqlDataSource dataSource) : ITenantEventLog
{
    public async Task AppendAsync(TenantRef tenant, string type, string? connection, string? userId, string? sessionId, JsonObject? detail = null)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO broker_events (tenant_id, incarnation, type, connection, user_id, session_id, detail)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """);
        command.Parameters.Add(new() { Value = tenant.Id });
        command.Parameters.Add(new() { Value = tenant.Incarnation });
        command.Parameters.Add(new() { Value = type });
        command.Parameters.Add(new() { Value = (object?)connection ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)userId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)sessionId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (detail ?? []).ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<TenantEvent>> ListAsync(TenantRef tenant, EventQuery query)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, at, type, connection, user_id, session_id, detail::text FROM broker_events
            WHERE tenant_id = $1 AND incarnation = $2 AND ($3::bigint IS NULL OR id < $3)
              AND ($4::text IS NULL OR type = $4) AND ($5::text IS NULL OR connection = $5) AND ($6::text IS NULL OR user_id = $6)
            ORDER BY id DESC LIMIT $7
            """);
        command.Parameters.Add(new() { Value = tenant.Id });
        command.Parameters.Add(new() { Value = tenant.Incarnation });
        command.Parameters.Add(new() { Value = (object?)query.Before ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new() { Value = (object?)query.Type ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)query.Connection ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)query.UserId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = query.Limit });
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<TenantEvent>();
        while (await reader.ReadAsync())
        {
            events.Add(new TenantEvent(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), JsonNode.Parse(reader.GetString(6))!.AsObject()));
        }
        return events;
    }
}

using System.Text.Json;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Npgsql;
using NpgsqlTypes;

namespace Broker.Silo.Postgres;

/// <summary>The user directory in the tables <c>broker_users</c> and <c>broker_user_identities</c> (migration 9).</summary>
public sealed class PostgresUserDirectory(NpgsqlDataSource dataSource) : IUserDirectory
{
    public async Task UpsertAsync(TenantRef tenant, UserSummary user)
    {
        // One batch, one implicit transaction: a reader never sees the user without its identities.
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            INSERT INTO broker_users (user_id, tenant_id, incarnation, name, email, avatar_url, blocked, created_at, last_login_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, email = excluded.email, avatar_url = excluded.avatar_url,
                blocked = excluded.blocked, last_login_at = excluded.last_login_at
            """, user.Id, tenant.Id, tenant.Incarnation, Text(user.Name), Text(user.Email), Text(user.AvatarUrl), user.Blocked, user.CreatedAt,
            new NpgsqlParameter { Value = (object?)user.LastLoginAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz }));
        batch.BatchCommands.Add(Command("DELETE FROM broker_user_identities WHERE user_id = $1", user.Id));
        batch.BatchCommands.Add(Command("""
            INSERT INTO broker_user_identities (user_id, ordinal, connection, subject)
            SELECT $1, i.ordinal, i.connection, i.subject FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS i (connection, subject, ordinal)
            """, user.Id, user.Identities.Select(i => i.Connection).ToArray(), user.Identities.Select(i => i.Subject).ToArray()));
        await batch.ExecuteNonQueryAsync();
    }

    public async Task RemoveAsync(string userId)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM broker_users WHERE user_id = $1");
        command.Parameters.Add(new() { Value = userId });
        await command.ExecuteNonQueryAsync();
    }

    public async Task<UserPage> ListAsync(TenantRef tenant, UserQuery query)
    {
        // q is three index lookups (name and e-mail prefixes, the exact subject) whose users are then ordered;
        // as one OR over the tenant's rows it was a scan of all of them.
        await using var command = dataSource.CreateCommand("""
            SELECT u.position, u.user_id, u.name, u.email, u.avatar_url, u.blocked, u.created_at, u.last_login_at,
                   coalesce((SELECT json_agg(json_build_array(i.connection, i.subject) ORDER BY i.ordinal)
                             FROM broker_user_identities i WHERE i.user_id = u.user_id), '[]')::text
            FROM broker_users u
            WHERE u.tenant_id = $1 AND u.incarnation = $2 AND u.position > $3
              AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM broker_user_identities i WHERE i.user_id = u.user_id AND i.connection = $4))
              AND ($5::text IS NULL OR u.user_id IN (
                    SELECT n.user_id FROM broker_users n WHERE n.tenant_id = $1 AND n.incarnation = $2 AND lower(n.name) LIKE lower($6)
                    UNION ALL SELECT e.user_id FROM broker_users e WHERE e.tenant_id = $1 AND e.incarnation = $2 AND lower(e.email) LIKE lower($6)
                    UNION ALL SELECT i.user_id FROM broker_user_identities i WHERE i.subject = $5))
            ORDER BY u.position
            LIMIT $7
            """);
        foreach (var value in new object[] { tenant.Id, tenant.Incarnation, query.After ?? 0L, Text(query.Connection), Text(query.Text), Text(query.Text is { } q ? Prefix(q) : null), query.Limit })
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        await using var reader = await command.ExecuteReaderAsync();
        var users = new List<UserSummary>();
        long last = 0;
        while (await reader.ReadAsync())
        {
            last = reader.GetInt64(0);
            var identities = JsonSerializer.Deserialize<string[][]>(reader.GetString(8))!.Select(i => new IdentityRef(i[0], i[1])).ToList();
            users.Add(new UserSummary(reader.GetString(1), NullableString(reader, 2), NullableString(reader, 3), NullableString(reader, 4), reader.GetBoolean(5),
                reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7), identities));
        }
        return new UserPage(users, users.Count == query.Limit ? last : null);
    }

    /// <summary>A LIKE pattern matching what starts with <paramref name="text"/> taken literally.</summary>
    private static string Prefix(string text) => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "%";

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        return command;
    }
}

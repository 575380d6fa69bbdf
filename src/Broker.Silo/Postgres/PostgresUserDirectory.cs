using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Npgsql;
using NpgsqlTypes;

namespace Broker.Silo.Postgres;

/// <summary>The user directory in the table <c>broker_users</c> (migration 9), one row per user.</summary>
public sealed class PostgresUserDirectory(NpgsqlDataSource dataSource) : IUserDirectory
{
    public async Task UpsertAsync(TenantRef tenant, UserSummary user)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO broker_users (user_id, tenant_id, incarnation, name, email, avatar_url, blocked, created_at, last_login_at, connections, subjects)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, email = excluded.email, avatar_url = excluded.avatar_url,
                blocked = excluded.blocked, last_login_at = excluded.last_login_at, connections = excluded.connections, subjects = excluded.subjects
            """);
        foreach (var value in new object[]
        {
            user.Id, tenant.Id, tenant.Incarnation, Text(user.Name), Text(user.Email), Text(user.AvatarUrl), user.Blocked, user.CreatedAt,
            new NpgsqlParameter { Value = (object?)user.LastLoginAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            user.Identities.Select(i => i.Connection).ToArray(), user.Identities.Select(i => i.Subject).ToArray(),
        })
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync();
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
            SELECT u.position, u.user_id, u.name, u.email, u.avatar_url, u.blocked, u.created_at, u.last_login_at, u.connections, u.subjects
            FROM broker_users u
            WHERE u.tenant_id = $1 AND u.incarnation = $2 AND u.position > $3
              AND ($4::text IS NULL OR u.connections @> ARRAY[$4::text])
              AND ($5::text IS NULL OR u.user_id IN (
                    SELECT n.user_id FROM broker_users n WHERE n.tenant_id = $1 AND n.incarnation = $2 AND lower(n.name) LIKE lower($6)
                    UNION ALL SELECT e.user_id FROM broker_users e WHERE e.tenant_id = $1 AND e.incarnation = $2 AND lower(e.email) LIKE lower($6)
                    UNION ALL SELECT s.user_id FROM broker_users s WHERE s.subjects @> ARRAY[$5::text]))
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
            var identities = reader.GetFieldValue<string[]>(8).Zip(reader.GetFieldValue<string[]>(9), (c, s) => new IdentityRef(c, s)).ToList();
            users.Add(new UserSummary(reader.GetString(1), NullableString(reader, 2), NullableString(reader, 3), NullableString(reader, 4), reader.GetBoolean(5),
                reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7), identities));
        }
        return new UserPage(users, users.Count == query.Limit ? last : null);
    }

    /// <summary>A LIKE pattern matching what starts with <paramref name="text"/> taken literally.</summary>
    private static string Prefix(string text) => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "%";

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

}

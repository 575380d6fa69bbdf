using Broker.Grains.Tenants;
using Npgsql;

namespace Broker.Silo.Postgres;

/// <summary>The tenant directory in the table <c>broker_tenants</c>.</summary>
public sealed class PostgresTenantDirectory(NpgsqlDataSource dataSource) : ITenantDirectory
{
    public async Task AddAsync(string tenantId)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO broker_tenants (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING");
        command.Parameters.Add(new() { Value = tenantId });
        await command.ExecuteNonQueryAsync();
    }

    public async Task RemoveAsync(string tenantId)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM broker_tenants WHERE tenant_id = $1");
        command.Parameters.Add(new() { Value = tenantId });
        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<string>> ListAsync(string? after, int limit)
    {
        await using var command = dataSource.CreateCommand("SELECT tenant_id FROM broker_tenants WHERE tenant_id > $1 ORDER BY tenant_id LIMIT $2");
        command.Parameters.Add(new() { Value = after ?? "" });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
            ids.Add(reader.GetString(0));
        return ids;
    }
}

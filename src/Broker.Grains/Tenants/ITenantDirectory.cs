namespace Broker.Grains.Tenants;

/// <summary>
/// Which tenants exist, in id order, for <c>GET /admin/tenants</c>: a question no single grain can answer.
/// A tenant grain adds its id before it writes its creation and removes it after it wrote its deletion, so
/// an active tenant is always listed; an id listed whose tenant is not active (a creation that failed
/// after the add) is skipped by the route. Memory keeps it in the process; PostgreSQL in a table.
/// </summary>
public interface ITenantDirectory
{
    Task AddAsync(string tenantId);

    Task RemoveAsync(string tenantId);

    /// <summary>Up to <paramref name="limit"/> ids after <paramref name="after"/> (exclusive), in ordinal order.</summary>
    Task<IReadOnlyList<string>> ListAsync(string? after, int limit);
}

namespace Broker.Grains.Tenants;

/// <summary>The tenant directory of a single process (Memory storage and tests).</summary>
public sealed class MemoryTenantDirectory : ITenantDirectory
{
    private readonly SortedSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Task AddAsync(string tenantId)
    {
        lock (_lock)
            _ids.Add(tenantId);
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string tenantId)
    {
        lock (_lock)
            _ids.Remove(tenantId);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ListAsync(string? after, int limit)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<string>>(
                _ids.Where(id => after is null || string.CompareOrdinal(id, after) > 0).Take(limit).ToList());
        }
    }
}

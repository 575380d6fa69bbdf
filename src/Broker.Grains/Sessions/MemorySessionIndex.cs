using System.Collections.Concurrent;
using Broker.Grains.Tenants;

namespace Broker.Grains.Sessions;

/// <summary>The session index of a single process (Memory storage and tests).</summary>
public sealed class MemorySessionIndex : ISessionIndex
{
    private readonly ConcurrentDictionary<string, (TenantRef Tenant, IndexedSession Session)> _sessions = new(StringComparer.Ordinal);

    public Task AddAsync(TenantRef tenant, IndexedSession session)
    {
        _sessions[session.SessionId] = (tenant, session);
        return Task.CompletedTask;
    }

    public Task RemoveAsync(IReadOnlyCollection<string> sessionIds)
    {
        foreach (var id in sessionIds)
            _sessions.TryRemove(id, out _);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<IndexedSession>> ListAsync(TenantRef tenant, int limit) =>
        Task.FromResult<IReadOnlyList<IndexedSession>>(
            _sessions.Values.Where(e => e.Tenant == tenant).Select(e => e.Session).Take(limit).ToList());
}

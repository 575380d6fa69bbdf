using System.Collections.Concurrent;
using Broker.Grains.Tenants;

namespace Broker.Grains.Sessions;

/// <summary>The session index of a single process (Memory storage and tests).</summary>
public sealed class MemorySessionIndex : ISessionIndex
{
    private readonly ConcurrentDictionary<string, (TenantRef Tenant, IndexedSession Session)> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _ended = new(StringComparer.Ordinal);

    public Task AddAsync(TenantRef tenant, IndexedSession session)
    {
        _sessions[session.SessionId] = (tenant, session);
        return Task.CompletedTask;
    }

    public Task MarkEndedAsync(string sessionId)
    {
        if (_sessions.ContainsKey(sessionId))
            _ended[sessionId] = true;
        return Task.CompletedTask;
    }

    public long CountActive() => _sessions.Count - _ended.Count;

    public Task RemoveAsync(IReadOnlyCollection<string> sessionIds)
    {
        foreach (var id in sessionIds)
        {
            _sessions.TryRemove(id, out _);
            _ended.TryRemove(id, out _);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<IndexedSession>> ListAsync(TenantRef tenant, int limit) =>
        Task.FromResult<IReadOnlyList<IndexedSession>>(
            _sessions.Values.Where(e => e.Tenant == tenant).Select(e => e.Session).Take(limit).ToList());
}

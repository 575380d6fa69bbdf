using Broker.Grains.Tenants;

namespace Broker.Grains.Sessions;

/// <summary>A session as the index lists it, with what ending it for a deleted tenant needs.</summary>
public sealed record IndexedSession(string SessionId, string ConnectionId, string UserId);

/// <summary>
/// Which sessions one life of a tenant has, so that deleting the tenant can end and revoke every one
/// of them at once (docs/design.md §5), and how many sessions are active (<c>broker_sessions_active</c>):
/// questions no single grain can answer. Session grains add themselves when they start, mark
/// themselves when they end and remove themselves when they are purged. Memory keeps it in the
/// process; PostgreSQL in a table of its own.
/// </summary>
public interface ISessionIndex
{
    Task AddAsync(TenantRef tenant, IndexedSession session);

    Task MarkEndedAsync(string sessionId);

    Task RemoveAsync(IReadOnlyCollection<string> sessionIds);

    /// <summary>Sessions started and not yet ended, in the whole cluster.</summary>
    long CountActive();

    /// <summary>Up to <paramref name="limit"/> sessions of <paramref name="tenant"/>, in no particular order.</summary>
    Task<IReadOnlyList<IndexedSession>> ListAsync(TenantRef tenant, int limit);
}

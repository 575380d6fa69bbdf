using System.Text.Json.Nodes;
using Broker.Grains.Tenants;

namespace Broker.Grains.Events;

/// <summary>The audit trail of a single process (Memory storage and tests): the last 10,000 events per tenant life.</summary>
public sealed class MemoryTenantEventLog(TimeProvider time) : ITenantEventLog
{
    private const int PerTenant = 10_000;
    private readonly Dictionary<TenantRef, LinkedList<TenantEvent>> _events = [];
    private readonly Lock _lock = new();
    private long _lastId;

    public Task AppendAsync(TenantRef tenant, string type, string? connection, string? userId, string? sessionId, JsonObject? detail = null)
    {
        lock (_lock)
        {
            if (!_events.TryGetValue(tenant, out var list))
                _events[tenant] = list = new LinkedList<TenantEvent>();
            list.AddFirst(new TenantEvent(++_lastId, time.GetUtcNow(), type, connection, userId, sessionId, detail ?? []));
            if (list.Count > PerTenant)
                list.RemoveLast();
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<TenantEvent>> ListAsync(TenantRef tenant, EventQuery query)
    {
        lock (_lock)
        {
            IReadOnlyList<TenantEvent> page = !_events.TryGetValue(tenant, out var list) ? [] : list
                .Where(e => (query.Before is not { } before || e.Id < before)
                    && (query.Type is null || e.Type == query.Type)
                    && (query.Connection is null || e.Connection == query.Connection)
                    && (query.UserId is null || e.UserId == query.UserId))
                .Take(query.Limit)
                // A copy of the detail: the caller may serialize it while another event is added.
                .Select(e => e with { Detail = (JsonObject)e.Detail.DeepClone() })
                .ToList();
            return Task.FromResult(page);
        }
    }
}

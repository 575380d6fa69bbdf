using Broker.Grains.Runtime;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Users;
using Microsoft.Extensions.Logging;

namespace Broker.Grains.Tenants;

public sealed class RetiredTenantState
{
    public TenantRef? Tenant { get; set; }
    public Dictionary<string, StoredConnection> Connections { get; set; } = [];
    public DateTimeOffset RetiredAt { get; set; }
}

/// <summary>
/// Ends a deleted tenant's sessions in batches, one reminder tick per batch, so that a silo that dies
/// half-way leaves the rest to the next tick on another silo.
/// </summary>
public sealed class RetiredTenantGrain(
    GrainContext context,
    ISessionIndex index,
    SecretProtector secrets,
    TimeProvider time,
    ILogger<RetiredTenantGrain> logger) : IRetiredTenantGrain, IRemindable
{
    private const string Reminder = "retire";
    private const int BatchSize = 100;

    // Long enough for any deletion to write its tombstone; past it the deletion must have failed.
    private static readonly TimeSpan GiveUpWaitingAfter = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan WaitStep = TimeSpan.FromSeconds(5);

    private readonly PersistentState<RetiredTenantState> _state = context.GetState<RetiredTenantState>();

    private RetiredTenantState State => _state.State;

    public async Task RetireAsync(TenantRef tenant, IReadOnlyDictionary<string, StoredConnection> connections)
    {
        _state.State = new RetiredTenantState { Tenant = tenant, Connections = new(connections), RetiredAt = time.GetUtcNow() };
        await _state.WriteStateAsync();
        await context.RegisterOrUpdateReminderAsync(Reminder, time.GetUtcNow());
    }

    public async Task ReceiveReminderAsync(string name, ReminderTick tick)
    {
        if (State.Tenant is not { } tenant)
        {
            await context.UnregisterReminderAsync(Reminder);
            return;
        }
        var now = time.GetUtcNow();
        var access = await context.GrainFactory.GetGrain<ITenantGrain>(tenant.Id).GetAccessAsync(null);
        if (access.Tenant == tenant)
        {
            if (now - State.RetiredAt < GiveUpWaitingAfter)
                await context.RegisterOrUpdateReminderAsync(Reminder, now + WaitStep);
            else
                await ForgetAsync();
            return;
        }

        var batch = await index.ListAsync(tenant, BatchSize);
        if (batch.Count == 0)
        {
            logger.LogInformation("Every session of deleted tenant {Tenant} has ended", tenant.Id);
            await ForgetAsync();
            return;
        }
        await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (session, _) =>
        {
            var connection = State.Connections.TryGetValue(session.ConnectionId, out var stored)
                ? stored.Config with { ClientSecret = secrets.Unprotect(stored.ProtectedClientSecret) }
                : null;
            await context.GrainFactory.GetGrain<ISessionGrain>(session.SessionId).EndForRetiredTenantAsync(tenant, connection);
        });
        foreach (var userId in batch.Select(s => s.UserId).Distinct(StringComparer.Ordinal))
            await context.GrainFactory.GetGrain<IUserGrain>(userId).ForgetAsync(tenant);
        await index.RemoveAsync(batch.Select(s => s.SessionId).ToList());
        await context.RegisterOrUpdateReminderAsync(Reminder, time.GetUtcNow());
    }

    private async Task ForgetAsync()
    {
        await _state.ClearStateAsync();
        await context.UnregisterReminderAsync(Reminder);
    }
}

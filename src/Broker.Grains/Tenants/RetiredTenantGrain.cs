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
/// Ends a deleted tenant's sessions in batches on a reminder, so that a silo that dies half-way
/// leaves the rest to the next tick on another silo.
/// </summary>
[GrainType("retired-tenant")]
public sealed class RetiredTenantGrain(
    [PersistentState("retired-tenant", BrokerStorage.Name)] IPersistentState<RetiredTenantState> state,
    ISessionIndex index,
    IUserDirectory users,
    SecretProtector secrets,
    BrokerGrainOptions options,
    TimeProvider time,
    ILogger<RetiredTenantGrain> logger) : Grain, IRetiredTenantGrain, IRemindable
{
    private const string Reminder = "retire";
    private const int BatchSize = 100;

    // Long enough for any deletion to write its tombstone; past it the deletion must have failed.
    private static readonly TimeSpan GiveUpWaitingAfter = TimeSpan.FromMinutes(10);

    // A tick ends sessions for about this long, then leaves the rest to the next tick.
    private static readonly TimeSpan TickBudget = TimeSpan.FromSeconds(10);

    private RetiredTenantState State => state.State;

    public async Task RetireAsync(TenantRef tenant, IReadOnlyDictionary<string, StoredConnection> connections)
    {
        state.State = new RetiredTenantState { Tenant = tenant, Connections = new(connections), RetiredAt = time.GetUtcNow() };
        await state.WriteStateAsync();
        await this.WakeAtAsync(Reminder, time.GetUtcNow(), options, time);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (State.Tenant is not { } tenant)
        {
            await this.CancelWakeupAsync(Reminder);
            return;
        }
        var access = await GrainFactory.Tenant(tenant.Id).GetAccessAsync(null);
        if (access.Tenant == tenant)
        {
            // The deletion has not written its tombstone yet (the next tick looks again), or it failed.
            if (time.GetUtcNow() - State.RetiredAt >= GiveUpWaitingAfter)
                await ForgetAsync();
            return;
        }

        var started = time.GetTimestamp();
        while (time.GetElapsedTime(started) < TickBudget)
        {
            var batch = await index.ListAsync(tenant, BatchSize);
            if (batch.Count > 0)
            {
                await EndAsync(tenant, batch);
                continue;
            }
            // Then the users whose sessions were all purged before: each forgets itself and leaves the directory.
            var remaining = await users.ListAsync(tenant, new UserQuery(null, null, BatchSize, null));
            if (remaining.Items.Count > 0)
            {
                await Task.WhenAll(remaining.Items.Select(u => GrainFactory.User(u.Id).ForgetAsync(tenant)));
                continue;
            }
            logger.LogInformation("Every session and user of deleted tenant {Tenant} is gone", tenant.Id);
            await ForgetAsync();
            return;
        }
    }

    private async Task EndAsync(TenantRef tenant, IReadOnlyList<IndexedSession> batch)
    {
        // Eight at a time: each may wait on a provider's revocation endpoint.
        foreach (var chunk in batch.Chunk(8))
        {
            await Task.WhenAll(chunk.Select(session =>
            {
                var connection = State.Connections.TryGetValue(session.ConnectionId, out var stored)
                    ? stored.Config with { ClientSecret = secrets.Unprotect(stored.ProtectedClientSecret) }
                    : null;
                return GrainFactory.Session(session.SessionId).EndForRetiredTenantAsync(tenant, connection);
            }));
        }
        foreach (var userId in batch.Select(s => s.UserId).Distinct(StringComparer.Ordinal))
            await GrainFactory.User(userId).ForgetAsync(tenant);
        await index.RemoveAsync(batch.Select(s => s.SessionId).ToList());
    }

    private async Task ForgetAsync()
    {
        await state.ClearStateAsync();
        await this.CancelWakeupAsync(Reminder);
    }
}

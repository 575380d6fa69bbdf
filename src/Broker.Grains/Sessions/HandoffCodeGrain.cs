using Broker.Grains.Runtime;
using Broker.Grains.Tenants;

namespace Broker.Grains.Sessions;

public sealed class HandoffCodeState
{
    public string TenantId { get; set; } = "";
    public string TenantIncarnation { get; set; } = "";
    public string SessionId { get; set; } = "";
    public DateTimeOffset ExpiresAt { get; set; }
    public bool Redeemed { get; set; }
}

public sealed class HandoffCodeGrain(GrainContext context, TimeProvider time) : IHandoffCodeGrain, IRemindable
{
    private const string ExpiryReminder = "expire";

    private readonly PersistentState<HandoffCodeState> _state = context.GetState<HandoffCodeState>();

    public async Task CreateAsync(TenantRef tenant, string sessionId, DateTimeOffset expiresAt)
    {
        _state.State = new HandoffCodeState { TenantId = tenant.Id, TenantIncarnation = tenant.Incarnation, SessionId = sessionId, ExpiresAt = expiresAt };
        await _state.WriteStateAsync();
        await context.RegisterOrUpdateReminderAsync(ExpiryReminder, expiresAt);
    }

    public Task<bool> PeekAsync(TenantRef tenant) => Task.FromResult(IsRedeemable(tenant));

    public async Task<string?> RedeemAsync(TenantRef tenant)
    {
        if (!IsRedeemable(tenant))
            return null;
        // The conditional write makes the code single use across silos (RFC 6749 §4.1.2).
        _state.State.Redeemed = true;
        try
        {
            await _state.WriteStateAsync();
        }
        catch (StateConflictException)
        {
            return null;
        }
        return _state.State.SessionId;
    }

    public async Task ReceiveReminderAsync(string name, ReminderTick tick)
    {
        if (_state.RecordExists)
            await _state.ClearStateAsync();
        await context.UnregisterReminderAsync(ExpiryReminder);
    }

    private bool IsRedeemable(TenantRef tenant) =>
        _state.RecordExists && !_state.State.Redeemed && _state.State.TenantId == tenant.Id && _state.State.TenantIncarnation == tenant.Incarnation && time.GetUtcNow() < _state.State.ExpiresAt;
}

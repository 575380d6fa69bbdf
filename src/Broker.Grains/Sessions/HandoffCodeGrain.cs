using Broker.Grains.Runtime;

namespace Broker.Grains.Sessions;

public sealed class HandoffCodeState
{
    public string TenantId { get; set; } = "";
    public string SessionId { get; set; } = "";
    public DateTimeOffset ExpiresAt { get; set; }
    public bool Redeemed { get; set; }
}

public sealed class HandoffCodeGrain(GrainContext context, TimeProvider time) : IHandoffCodeGrain, IRemindable
{
    private const string ExpiryReminder = "expire";

    private readonly PersistentState<HandoffCodeState> _state = context.GetState<HandoffCodeState>();

    public async Task CreateAsync(string tenantId, string sessionId, DateTimeOffset expiresAt)
    {
        _state.State = new HandoffCodeState { TenantId = tenantId, SessionId = sessionId, ExpiresAt = expiresAt };
        await _state.WriteStateAsync();
        await context.RegisterOrUpdateReminderAsync(ExpiryReminder, expiresAt);
    }

    public Task<bool> PeekAsync(string tenantId) => Task.FromResult(IsRedeemable(tenantId));

    public async Task<string?> RedeemAsync(string tenantId)
    {
        if (!IsRedeemable(tenantId))
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

    private bool IsRedeemable(string tenantId) =>
        _state.RecordExists && !_state.State.Redeemed && _state.State.TenantId == tenantId && time.GetUtcNow() < _state.State.ExpiresAt;
}

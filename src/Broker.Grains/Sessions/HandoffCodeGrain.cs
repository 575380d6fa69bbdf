using Broker.Grains.Tenants;
using Orleans.Storage;

namespace Broker.Grains.Sessions;

public sealed class HandoffCodeState
{
    public string TenantId { get; set; } = "";
    public string TenantIncarnation { get; set; } = "";
    public string SessionId { get; set; } = "";
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>
/// Redeeming deletes the code's state with a conditional write (its etag), which is what makes it
/// single use across silos (RFC 6749 §4.1.2): of two redemptions, only one delete succeeds. A code
/// never redeemed expires with its stored time; its row is swept by the host's storage housekeeping.
/// </summary>
[GrainType("handoff")]
public sealed class HandoffCodeGrain(
    [PersistentState("handoff", BrokerStorage.Name)] IPersistentState<HandoffCodeState> state,
    TimeProvider time) : Grain, IHandoffCodeGrain
{
    public async Task CreateAsync(TenantRef tenant, string sessionId, DateTimeOffset expiresAt)
    {
        state.State = new HandoffCodeState { TenantId = tenant.Id, TenantIncarnation = tenant.Incarnation, SessionId = sessionId, ExpiresAt = expiresAt };
        await state.WriteStateAsync();
    }

    public Task<bool> PeekAsync(TenantRef tenant) => Task.FromResult(IsRedeemable(tenant));

    public async Task<string?> RedeemAsync(TenantRef tenant)
    {
        if (!IsRedeemable(tenant))
            return null;
        var sessionId = state.State.SessionId;
        try
        {
            await state.ClearStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation redeemed it first.
            await state.ReadStateAsync();
            return null;
        }
        DeactivateOnIdle();
        return sessionId;
    }

    private bool IsRedeemable(TenantRef tenant) =>
        state.RecordExists && state.State.TenantId == tenant.Id && state.State.TenantIncarnation == tenant.Incarnation
        && time.GetUtcNow() < state.State.ExpiresAt;
}

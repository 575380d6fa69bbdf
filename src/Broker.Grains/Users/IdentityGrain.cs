using Broker.Grains.Tenants;
using Orleans.Storage;

namespace Broker.Grains.Users;

public sealed class IdentityState
{
    public string TenantId { get; set; } = "";
    public string TenantIncarnation { get; set; } = "";
    public string Connection { get; set; } = "";
    public string Subject { get; set; } = "";
    public string UserId { get; set; } = "";
    public DateTimeOffset LinkedAt { get; set; }
}

[GrainType("identity")]
public sealed class IdentityGrain(
    [PersistentState("identity", BrokerStorage.Name)] IPersistentState<IdentityState> state,
    TimeProvider time) : Grain, IIdentityGrain
{
    public async Task<IdentityOwner> ResolveAsync(TenantRef tenant, IdentityRef identity)
    {
        if (Owner(tenant) is { } owner)
            return new IdentityOwner(owner, IsNew: false);
        return await ClaimAsync(tenant, identity, UserIds.New());
    }

    public async Task<IdentityOwner> ClaimAsync(TenantRef tenant, IdentityRef identity, string userId)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (Owner(tenant) is { } owner)
                return new IdentityOwner(owner, IsNew: false);
            state.State = new IdentityState
            {
                TenantId = tenant.Id, TenantIncarnation = tenant.Incarnation,
                Connection = identity.Connection, Subject = identity.Subject,
                UserId = userId, LinkedAt = time.GetUtcNow(),
            };
            try
            {
                await state.WriteStateAsync();
                return new IdentityOwner(userId, IsNew: true);
            }
            catch (InconsistentStateException) when (attempt < 5)
            {
                // Another activation (a silo leaving the cluster) wrote first: its owner stands.
                await state.ReadStateAsync();
            }
        }
    }

    public async Task ReleaseAsync(TenantRef tenant, string userId)
    {
        if (Owner(tenant) == userId)
            await state.ClearStateAsync();
    }

    private string? Owner(TenantRef tenant) =>
        state.RecordExists && state.State.UserId != "" && state.State.TenantId == tenant.Id && state.State.TenantIncarnation == tenant.Incarnation
            ? state.State.UserId
            : null;
}

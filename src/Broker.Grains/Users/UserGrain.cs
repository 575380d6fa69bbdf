using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Orleans.Storage;

namespace Broker.Grains.Users;

public sealed class UserState
{
    public string TenantId { get; set; } = "";
    public string TenantIncarnation { get; set; } = "";
    public UserView? Profile { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public List<string> SessionIds { get; set; } = [];
}

[GrainType("user")]
public sealed class UserGrain(
    [PersistentState("user", BrokerStorage.Name)] IPersistentState<UserState> state,
    TimeProvider time) : Grain, IUserGrain
{
    private UserState State => state.State;

    /// <remarks>The caller's login is already spent, so a lost race with another silo (the same person
    /// logging in twice at once) must not fail it: linking is a merge, so it is re-applied on fresh state.</remarks>
    public async Task LinkSessionAsync(TenantRef tenant, UserView profile, string sessionId)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!state.RecordExists)
                state.State = new UserState { TenantId = tenant.Id, TenantIncarnation = tenant.Incarnation, CreatedAt = time.GetUtcNow() };
            State.Profile = profile;
            State.SessionIds.Add(sessionId);
            try
            {
                await state.WriteStateAsync();
                return;
            }
            catch (InconsistentStateException) when (attempt < 5)
            {
                await state.ReadStateAsync();
            }
        }
    }

    public async Task<IReadOnlyList<SessionView>?> ListSessionsAsync(TenantRef tenant)
    {
        if (!IsUserOf(tenant))
            return null;
        var views = new List<SessionView>();
        var gone = new List<string>();
        foreach (var sessionId in State.SessionIds)
        {
            if (await GrainFactory.Session(sessionId).GetAsync(tenant) is { } view)
                views.Add(view);
            else
                gone.Add(sessionId);
        }
        if (gone.Count > 0)
        {
            // Sessions purged after their retention hour: forget them so the list stays short.
            State.SessionIds.RemoveAll(gone.Contains);
            await state.WriteStateAsync();
        }
        return views;
    }

    public async Task<bool> EndAllSessionsAsync(TenantRef tenant)
    {
        if (!IsUserOf(tenant))
            return false;
        foreach (var sessionId in State.SessionIds)
            await GrainFactory.Session(sessionId).EndAsync(tenant, EndReasons.Revoked);
        return true;
    }

    public async Task ForgetAsync(TenantRef tenant)
    {
        if (IsUserOf(tenant))
            await state.ClearStateAsync();
    }

    private bool IsUserOf(TenantRef tenant) => state.RecordExists && State.TenantId == tenant.Id && State.TenantIncarnation == tenant.Incarnation;
}

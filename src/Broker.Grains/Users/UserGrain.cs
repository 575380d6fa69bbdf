using Broker.Grains.Runtime;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;

namespace Broker.Grains.Users;

public sealed class UserState
{
    public string TenantId { get; set; } = "";
    public string TenantIncarnation { get; set; } = "";
    public UserView? Profile { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public List<string> SessionIds { get; set; } = [];
}

public sealed class UserGrain(GrainContext context, TimeProvider time) : IUserGrain
{
    private readonly PersistentState<UserState> _state = context.GetState<UserState>();

    private UserState State => _state.State;

    /// <remarks>The caller's login is already spent, so a lost race with another silo (the same person
    /// logging in twice at once) must not fail it: linking is a merge, so it is re-applied on fresh state.</remarks>
    public async Task LinkSessionAsync(TenantRef tenant, UserView profile, string sessionId)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!_state.RecordExists)
                _state.State = new UserState { TenantId = tenant.Id, TenantIncarnation = tenant.Incarnation, CreatedAt = time.GetUtcNow() };
            State.Profile = profile;
            State.SessionIds.Add(sessionId);
            try
            {
                await _state.WriteStateAsync();
                return;
            }
            catch (StateConflictException) when (attempt < 5)
            {
                await _state.ReadStateAsync();
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
            if (await context.GrainFactory.GetGrain<ISessionGrain>(sessionId).GetAsync(tenant) is { } view)
                views.Add(view);
            else
                gone.Add(sessionId);
        }
        if (gone.Count > 0)
        {
            // Sessions purged after their retention hour: forget them so the list stays short.
            State.SessionIds.RemoveAll(gone.Contains);
            await _state.WriteStateAsync();
        }
        return views;
    }

    public async Task<bool> EndAllSessionsAsync(TenantRef tenant)
    {
        if (!IsUserOf(tenant))
            return false;
        foreach (var sessionId in State.SessionIds)
            await context.GrainFactory.GetGrain<ISessionGrain>(sessionId).EndAsync(tenant, EndReasons.Revoked);
        return true;
    }

    public async Task ForgetAsync(TenantRef tenant)
    {
        if (IsUserOf(tenant))
            await _state.ClearStateAsync();
    }

    private bool IsUserOf(TenantRef tenant) => _state.RecordExists && State.TenantId == tenant.Id && State.TenantIncarnation == tenant.Incarnation;
}

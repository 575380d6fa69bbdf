using Broker.Grains.Runtime;
using Broker.Grains.Sessions;

namespace Broker.Grains.Users;

public sealed class UserState
{
    public string TenantId { get; set; } = "";
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
    public async Task LinkSessionAsync(string tenantId, UserView profile, string sessionId)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!_state.RecordExists)
                _state.State = new UserState { TenantId = tenantId, CreatedAt = time.GetUtcNow() };
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

    public async Task<IReadOnlyList<SessionView>?> ListSessionsAsync(string tenantId)
    {
        if (!IsUserOf(tenantId))
            return null;
        var views = new List<SessionView>();
        var gone = new List<string>();
        foreach (var sessionId in State.SessionIds)
        {
            if (await context.GrainFactory.GetGrain<ISessionGrain>(sessionId).GetAsync(tenantId) is { } view)
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

    public async Task<bool> EndAllSessionsAsync(string tenantId)
    {
        if (!IsUserOf(tenantId))
            return false;
        foreach (var sessionId in State.SessionIds)
            await context.GrainFactory.GetGrain<ISessionGrain>(sessionId).EndAsync(tenantId, EndReasons.Revoked);
        return true;
    }

    private bool IsUserOf(string tenantId) => _state.RecordExists && State.TenantId == tenantId;
}

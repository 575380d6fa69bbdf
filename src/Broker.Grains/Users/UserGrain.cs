using System.Text.Json.Nodes;
using Broker.Grains.Events;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Broker.Grains.Users;

[GrainType("user")]
public sealed class UserGrain(
    [PersistentState("user", BrokerStorage.Name)] IPersistentState<UserState> state,
    IUserDirectory directory,
    ITenantEventLog events,
    TimeProvider time,
    ILogger<UserGrain> logger) : Grain, IUserGrain
{
    private UserState State => state.State;

    private string Id => GrainKeys.IdOf(this);

    public async Task<SignInOutcome> SignInAsync(SignIn signIn)
    {
        if (!IsUserOf(signIn.Tenant) && !(signIn.Create && !state.RecordExists))
            return SignInOutcome.Gone;
        if (state.RecordExists && State.Blocked)
            return SignInOutcome.Blocked;

        var linked = false;
        // The caller's upstream login is spent, so a lost write race (a duplicate activation) must not fail
        // it: the change is a merge, applied again on the state that won.
        await UpdateAsync(() =>
        {
            var now = Now();
            if (!state.RecordExists)
                state.State = new UserState { TenantId = signIn.Tenant.Id, TenantIncarnation = signIn.Tenant.Incarnation, CreatedAt = now };
            var identity = State.Identities.Find(i => i.Is(signIn.Identity));
            if (identity is null)
            {
                // Also where the identity grain names this user but the user lost the identity (a link whose
                // second write never happened): the identity grain is the owner of record.
                State.Identities.Add(identity = new UserIdentity { Connection = signIn.Identity.Connection, Subject = signIn.Identity.Subject, LinkedAt = now });
                linked = signIn.Link;
            }
            identity.LastLoginAt = now;
            identity.Profile = signIn.Session.User;
            State.Sessions.Add(new UserSession { Id = signIn.SessionId, Connection = signIn.Identity.Connection, Subject = signIn.Identity.Subject });
        }, () => Task.WhenAll(GrainFactory.Session(signIn.SessionId).StartAsync(signIn.Session), directory.UpsertAsync(signIn.Tenant, Summary())));
        if (linked)
            await events.TryAppendAsync(logger, signIn.Tenant, EventTypes.IdentityLinked, signIn.Identity.Connection, Id, signIn.SessionId,
                new JsonObject { ["subject"] = signIn.Identity.Subject });
        return SignInOutcome.Started;
    }

    public async Task<UserDetails?> GetAsync(TenantRef tenant)
    {
        if (!IsUserOf(tenant))
            return null;
        var views = await Task.WhenAll(State.Sessions.Select(s => GrainFactory.Session(s.Id).GetAsync(tenant)));
        return Details(views.Count(v => v?.Status == "active"));
    }

    public async Task<UserDetails?> SetBlockedAsync(TenantRef tenant, bool blocked)
    {
        if (!IsUserOf(tenant))
            return null;
        if (State.Blocked != blocked)
        {
            await UpdateAsync(() => State.Blocked = blocked);
            await directory.UpsertAsync(tenant, Summary());
            await events.TryAppendAsync(logger, tenant, blocked ? EventTypes.UserBlocked : EventTypes.UserUnblocked, userId: Id);
        }
        // Also when it was blocked already: a session that a crash left behind is ended now.
        if (blocked)
            await EndSessionsAsync(tenant, State.Sessions);
        return await GetAsync(tenant);
    }

    public async Task<bool> DeleteAsync(TenantRef tenant)
    {
        if (!IsUserOf(tenant))
            return false;
        await EndSessionsAsync(tenant, State.Sessions);
        await ReleaseIdentitiesAsync(tenant);
        await UpdateAsync(() =>
        {
            State.Deleted = true;
            State.Blocked = false;
            State.Identities.Clear();
            State.Sessions.Clear();
        });
        await directory.RemoveAsync(Id);
        await events.TryAppendAsync(logger, tenant, EventTypes.UserDeleted, userId: Id);
        return true;
    }

    public async Task<UnlinkOutcome> UnlinkAsync(TenantRef tenant, IdentityRef identity)
    {
        if (!IsUserOf(tenant))
            return UnlinkOutcome.UserNotFound;
        if (State.Identities.Find(i => i.Is(identity)) is not { } found)
            return UnlinkOutcome.IdentityNotFound;
        if (State.Identities.Count == 1)
            return UnlinkOutcome.LastIdentity;
        // Freed first: a crash after it leaves a stale entry here, never an identity that still signs in as this user.
        await GrainFactory.Identity(tenant, identity).ReleaseAsync(tenant, Id);
        var sessions = State.Sessions.Where(s => s.Connection == identity.Connection && s.Subject == identity.Subject).ToList();
        await EndSessionsAsync(tenant, sessions);
        await UpdateAsync(() =>
        {
            State.Identities.RemoveAll(i => i.Is(identity));
            State.Sessions.RemoveAll(sessions.Contains);
        });
        await directory.UpsertAsync(tenant, Summary());
        await events.TryAppendAsync(logger, tenant, EventTypes.IdentityUnlinked, identity.Connection, Id, detail: new JsonObject { ["subject"] = identity.Subject });
        return UnlinkOutcome.Unlinked;
    }

    public async Task<IReadOnlyList<SessionView>?> ListSessionsAsync(TenantRef tenant)
    {
        if (!IsUserOf(tenant))
            return null;
        var views = await Task.WhenAll(State.Sessions.Select(s => GrainFactory.Session(s.Id).GetAsync(tenant)));
        var gone = State.Sessions.Where((_, i) => views[i] is null).ToHashSet();
        if (gone.Count > 0)
        {
            // Sessions purged after their retention hour: forget them so the list stays short.
            await UpdateAsync(() => State.Sessions.RemoveAll(gone.Contains));
        }
        return views.OfType<SessionView>().ToList();
    }

    public async Task<bool> EndAllSessionsAsync(TenantRef tenant)
    {
        if (!IsUserOf(tenant))
            return false;
        await EndSessionsAsync(tenant, State.Sessions);
        return true;
    }

    public async Task ForgetAsync(TenantRef tenant)
    {
        // A deleted user's mark goes too.
        if (state.RecordExists && State.TenantId == tenant.Id && State.TenantIncarnation == tenant.Incarnation)
            await ForgetCoreAsync(tenant);
        else
            await directory.RemoveAsync(Id); // a row whose user is gone must not keep the tenant's clean-up waiting
    }

    /// <summary>The tenant's life is over: nothing can resolve to this id again, so no mark is kept.</summary>
    private async Task ForgetCoreAsync(TenantRef tenant)
    {
        await ReleaseIdentitiesAsync(tenant);
        await state.ClearStateAsync();
        await directory.RemoveAsync(Id);
    }

    private async Task ReleaseIdentitiesAsync(TenantRef tenant)
    {
        foreach (var identity in State.Identities)
            await GrainFactory.Identity(tenant, new IdentityRef(identity.Connection, identity.Subject)).ReleaseAsync(tenant, Id);
    }

    /// <summary>Ends the sessions (revoked, upstream tokens revoked as DELETE does), a few at a time: each may
    /// wait on the provider's revocation endpoint.</summary>
    private async Task EndSessionsAsync(TenantRef tenant, IReadOnlyList<UserSession> sessions)
    {
        foreach (var chunk in sessions.ToList().Chunk(8))
            await Task.WhenAll(chunk.Select(s => GrainFactory.Session(s.Id).EndAsync(tenant, EndReasons.Revoked)));
    }

    /// <summary>Applies <paramref name="change"/> and writes it; on a lost write race, reads the winner's state
    /// and applies it again. <paramref name="alongside"/> (a login's session start and directory row, which need
    /// not wait for the write) runs once, after the first change, at the same time as its write.</summary>
    private async Task UpdateAsync(Action change, Func<Task>? alongside = null)
    {
        Task? started = null;
        for (var attempt = 1; ; attempt++)
        {
            change();
            try
            {
                var write = state.WriteStateAsync();
                started ??= alongside?.Invoke();
                await (started is null ? write : Task.WhenAll(write, started));
                return;
            }
            catch (InconsistentStateException) when (attempt < 5)
            {
                await state.ReadStateAsync();
            }
        }
    }

    /// <summary>Now, to the microsecond: what PostgreSQL keeps, so the directory and the user grain show one time.</summary>
    private DateTimeOffset Now()
    {
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % 10));
    }

    private bool IsUserOf(TenantRef tenant) =>
        state.RecordExists && !State.Deleted && State.TenantId == tenant.Id && State.TenantIncarnation == tenant.Incarnation;

    /// <summary>The name, e-mail and picture are those of the identity that signed in last.</summary>
    private UserSummary Summary()
    {
        var latest = State.Identities.MaxBy(i => i.LastLoginAt)?.Profile;
        return new UserSummary(Id, latest?.Name, latest?.Email, latest?.AvatarUrl, State.Blocked, State.CreatedAt,
            State.Identities.Count == 0 ? null : State.Identities.Max(i => i.LastLoginAt),
            State.Identities.Select(i => new IdentityRef(i.Connection, i.Subject)).ToList());
    }

    private UserDetails Details(int activeSessions) => new(
        Summary(),
        State.Identities.Select(i => new IdentityDetails(i.Connection, i.Subject, i.LinkedAt, i.LastLoginAt, i.Profile!)).ToList(),
        activeSessions);
}

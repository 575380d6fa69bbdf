using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Runtime;
using Broker.Grains.Security;
using Broker.Grains.Tenants;
using Microsoft.Extensions.Logging;

namespace Broker.Grains.Sessions;

public sealed partial class SessionGrain(
    GrainContext context,
    ConnectorFactory connectors,
    SecretProtector secrets,
    UpstreamProxy proxy,
    ISessionIndex index,
    BrokerGrainOptions options,
    TimeProvider time,
    ILogger<SessionGrain> logger) : ISessionGrain, IRemindable
{
    private const string Reminder = "session";

    private enum RefreshResult { Refreshed, Busy, Failed, Unsupported, Ended }

    private readonly PersistentState<SessionState> _state = context.GetState<SessionState>();

    private SessionState State => _state.State;

    private DateTimeOffset Now => time.GetUtcNow();

    public async Task StartAsync(NewSession session)
    {
        if (_state.RecordExists)
            throw new InvalidOperationException("A session id is used once.");
        var now = Now;
        _state.State = new SessionState
        {
            Status = SessionStatus.Active,
            TenantId = session.Tenant.Id,
            TenantIncarnation = session.Tenant.Incarnation,
            ConnectionId = session.ConnectionId,
            User = session.User,
            RefreshLeadSeconds = session.RefreshLeadSeconds,
            LifetimeSeconds = session.LifetimeSeconds,
            CreatedAt = now,
        };
        StoreTokens(session.Tokens, now);
        await _state.WriteStateAsync();
        await index.AddAsync(session.Tenant, new IndexedSession(context.Key, session.ConnectionId, session.UserId));
        await ArmAsync();
    }

    public async Task<SessionView?> GetAsync(TenantRef tenant) =>
        await FindAsync(tenant) ? View() : null;

    public Task<TokenOutcome> GetTokenAsync(TenantRef tenant) => TokenAsync(tenant, force: false);

    public Task<TokenOutcome> RefreshAsync(TenantRef tenant) => TokenAsync(tenant, force: true);

    public async Task<bool> EndAsync(TenantRef tenant, string reason)
    {
        if (!await FindAsync(tenant))
            return false;
        if (State.Status == SessionStatus.Active)
        {
            await EndCoreAsync(reason, revoke: true);
            await TryRevokeAsync(await ConnectorAsync()); // before answering, bounded by the outbound timeouts (DESIGN.md §6)
            await ArmAsync();
        }
        return true;
    }

    public async Task EndForRetiredTenantAsync(TenantRef tenant, ConnectionConfig? connection)
    {
        if (State.Status == SessionStatus.None || State.Tenant != tenant)
            return;
        if (State.Status == SessionStatus.Active)
            await EndCoreAsync(EndReasons.Revoked, revoke: true);
        // Nothing else will ever hold this connection again: without it, the revocation is given up.
        if (connection is null || connectors.Create(connection) is not IRevokeConnector)
            await GiveUpRevocationAsync();
        else
            await TryRevokeAsync(connectors.Create(connection));
        await ArmAsync();
    }

    public async Task<UpstreamCallOutcome> CallUpstreamAsync(TenantRef tenant, UpstreamCall call)
    {
        if (!await FindAsync(tenant))
            return new UpstreamCallOutcome.NotFound();
        if (State.Status == SessionStatus.Ended)
            return new UpstreamCallOutcome.Ended(State.EndReason!);
        if (await ConnectorAsync() is not IApiConnector api)
            return new UpstreamCallOutcome.Refused("no_upstream_api", "This connection's provider has no API the broker can call.");
        if (UpstreamProxy.Check(api, call, out var target) is { } refused)
            return refused;

        if (SessionSchedule.RefreshDueAt(State) <= Now)
        {
            await RefreshCoreAsync();
            await ArmAsync();
        }
        if (State.Status == SessionStatus.Ended)
            return new UpstreamCallOutcome.Ended(State.EndReason!);
        var (outcome, failure) = await proxy.SendAsync(api, target, call, CurrentTokens(), Profile());
        // A token the provider no longer takes (revoked, or expired early): refresh once and retry once.
        if (failure is { RefreshAndRetry: true } && await RefreshCoreAsync() == RefreshResult.Refreshed)
        {
            await ArmAsync();
            (outcome, _) = await proxy.SendAsync(api, target, call, CurrentTokens(), Profile());
        }
        return outcome;
    }

    public async Task<Uri?> LogoutAsync(TenantRef tenant, string postLogoutRedirectUri)
    {
        if (!await FindAsync(tenant) || State.Status != SessionStatus.Active)
            return null;
        var idToken = secrets.Unprotect(State.ProtectedIdToken);
        Uri? logoutUrl = null;
        if (await ConnectorAsync() is ILogoutConnector logout)
        {
            try
            {
                logoutUrl = await logout.BuildLogoutUrlAsync(new LogoutInput(idToken, postLogoutRedirectUri), CancellationToken.None);
            }
            catch (ConnectorException e)
            {
                logger.LogWarning(e, "No provider logout URL for session of {Tenant}/{Connection}", State.TenantId, State.ConnectionId);
            }
        }
        await EndAsync(tenant, EndReasons.Logout);
        return logoutUrl;
    }

    public async Task ReceiveReminderAsync(string name, ReminderTick tick)
    {
        if (!_state.RecordExists)
        {
            await context.UnregisterReminderAsync(Reminder);
            return;
        }
        var now = Now;
        if (State.Status == SessionStatus.Ended)
        {
            if (State.RevocationPending)
                await TryRevokeAsync(await ConnectorAsync());
            if (now >= State.EndedAt + options.EndedSessionRetention)
            {
                await _state.ClearStateAsync();
                await index.RemoveAsync([context.Key]);
                await context.UnregisterReminderAsync(Reminder);
                return;
            }
        }
        else if (now >= State.ExpiresAt)
        {
            await EndCoreAsync(EndReasons.Expired, revoke: true);
            await TryRevokeAsync(await ConnectorAsync());
        }
        else if (SessionSchedule.RefreshDueAt(State) <= now)
        {
            await RefreshCoreAsync();
        }
        await ArmAsync();
    }

    /// <summary>Loads the session for this tenant; ends it first if its lifetime has run out, since a
    /// late reminder must not keep a session alive (the stored expiry is the guard, not the timer).</summary>
    private async Task<bool> FindAsync(TenantRef tenant)
    {
        // A session of an earlier life of the tenant is not the current tenant's, whatever its id.
        if (State.Status == SessionStatus.None || State.Tenant != tenant)
            return false;
        if (State.Status == SessionStatus.Ended && Now >= State.EndedAt + options.EndedSessionRetention)
            return false;
        if (State.Status == SessionStatus.Active && Now >= State.ExpiresAt)
        {
            await EndCoreAsync(EndReasons.Expired, revoke: true);
            await ArmAsync();
        }
        return true;
    }

    private async Task<TokenOutcome> TokenAsync(TenantRef tenant, bool force)
    {
        if (!await FindAsync(tenant))
            return new TokenOutcome.NotFound();
        if (State.Status == SessionStatus.Ended)
            return new TokenOutcome.Ended(State.EndReason!);

        var refreshed = RefreshResult.Unsupported;
        if (force || SessionSchedule.RefreshDueAt(State) <= Now)
        {
            refreshed = await RefreshCoreAsync();
            await ArmAsync();
        }
        if (State.Status == SessionStatus.Ended)
            return new TokenOutcome.Ended(State.EndReason!);
        if (force && refreshed is RefreshResult.Busy or RefreshResult.Failed)
            return new TokenOutcome.Unavailable(refreshed == RefreshResult.Busy ? "A refresh is already in progress." : "The provider could not refresh the token.");
        // Never hand out a token that has expired, whatever the refresh did.
        if (State.AccessTokenExpiresAt is { } expires && expires <= Now)
            return new TokenOutcome.Unavailable("The access token expired and could not be refreshed yet.");
        return new TokenOutcome.Token(secrets.Unprotect(State.ProtectedAccessToken)!, State.TokenType, State.AccessTokenExpiresAt, State.Scope);
    }

    /// <summary>The connector of the session's connection; null once the connection or that life of the tenant is gone.</summary>
    private async Task<IConnector?> ConnectorAsync()
    {
        var found = await context.GrainFactory.GetGrain<ITenantGrain>(State.TenantId).GetConnectionWithPolicyAsync(State.TenantIncarnation, State.ConnectionId);
        return found is null ? null : connectors.Create(found.Connection);
    }

    private Task ArmAsync() =>
        context.RegisterOrUpdateReminderAsync(Reminder, SessionSchedule.NextTick(State, options.EndedSessionRetention, Now));

    private UpstreamProfile Profile() => new(State.User!.Subject, State.User.Name, State.User.Email, State.User.AvatarUrl, State.User.Raw);

    private SessionView View() => new(
        context.Key,
        State.Status == SessionStatus.Active ? "active" : "ended",
        State.EndReason,
        State.User!,
        State.CreatedAt,
        State.ExpiresAt,
        State.AccessTokenExpiresAt,
        State.RefreshedAt);
}

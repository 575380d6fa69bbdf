using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Events;
using Broker.Grains.Security;
using Broker.Grains.Tenants;
using Microsoft.Extensions.Logging;

namespace Broker.Grains.Sessions;

/// <remarks>
/// Its next piece of work (a refresh, the end of its lifetime, a revocation retry, its purge) is due
/// at <see cref="SessionSchedule.NextTick"/>. While active, a grain timer runs it on time; a
/// reminder at the same time wakes the session when its activation was collected or its silo died
/// (docs/design.md §2, semantics 3). Both may fire; the work checks the state, not the trigger.
/// </remarks>
[GrainType("session")]
public sealed partial class SessionGrain(
    [PersistentState("session", BrokerStorage.Name)] IPersistentState<SessionState> state,
    ConnectorFactory connectors,
    SecretProtector secrets,
    UpstreamProxy proxy,
    RefreshSlots refreshSlots,
    ISessionIndex index,
    BrokerGrainOptions options,
    TimeProvider time,
    ITenantEventLog events,
    ILogger<SessionGrain> logger) : Grain, ISessionGrain, IRemindable, IIncomingGrainCallFilter
{
    private const string Reminder = "session";

    private enum RefreshResult { Refreshed, Busy, NoSlot, Failed, Unsupported, Ended }

    // A grain timer cannot wait more than 49.7 days at once, and a session may live a year: a tick that comes
    // early finds nothing due and sets the timer again.
    private static readonly TimeSpan LongestTimerWait = TimeSpan.FromDays(1);

    private IGrainTimer? _timer;

    // When the reminder is set for, as far as this activation knows; re-registered only when it moves.
    private DateTimeOffset? _reminderAt;

    // The access token as last decrypted, keyed by its stored ciphertext: reading a token is the hot path, and
    // decrypting it on every read cost more CPU than the rest of the grain call. A new token has new ciphertext.
    private (string Protected, string Plain)? _accessToken;

    // Set once anything but a reminder tick called this activation. One that only ticked (an idle session
    // woken to refresh) is let go after the tick instead of being held until idle collection: a million
    // sessions coming due would otherwise keep every one refreshed in the last two minutes in memory.
    private bool _calledByOthers;

    private SessionState State => state.State;

    private DateTimeOffset Now => time.GetUtcNow();

    private string Id => GrainKeys.IdOf(this);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (State.Status != SessionStatus.None)
            SetTimer(SessionSchedule.NextTick(State, options.EndedSessionRetention, options.RefreshGiveUpAfter, Now));
        return Task.CompletedTask;
    }

    public async Task StartAsync(NewSession session)
    {
        if (state.RecordExists)
            throw new InvalidOperationException("A session id is used once.");
        var now = Now;
        state.State = new SessionState
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
        // The state, the index row and the reminder are independent writes: at once.
        await Task.WhenAll(
            state.WriteStateAsync(),
            index.AddAsync(session.Tenant, new IndexedSession(Id, session.ConnectionId, session.UserId)),
            ArmAsync());
    }

    public async Task<SessionView?> GetAsync(TenantRef tenant) =>
        await FindAsync(tenant) ? View() : null;

    public async Task<bool> CanRedeemHandoffAsync(TenantRef tenant) =>
        await FindAsync(tenant) && State.Status == SessionStatus.Active && !State.HandoffRedeemed;

    public async Task<SessionView?> RedeemHandoffAsync(TenantRef tenant)
    {
        if (!await CanRedeemHandoffAsync(tenant))
            return null;
        State.HandoffRedeemed = true;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Orleans.Storage.InconsistentStateException)
        {
            // Another activation wrote first (it may have redeemed the code): this one redeems nothing.
            await state.ReadStateAsync();
            return null;
        }
        return View();
    }

    public Task<TokenOutcome> GetTokenAsync(TenantRef tenant) => TokenAsync(tenant, force: false);

    public Task<TokenOutcome> RefreshAsync(TenantRef tenant) => TokenAsync(tenant, force: true);

    public async Task<bool> EndAsync(TenantRef tenant, string reason)
    {
        if (!await FindAsync(tenant))
            return false;
        if (State.Status == SessionStatus.Active)
        {
            await EndCoreAsync(reason, revoke: true);
            await TryRevokeAsync(await ConnectorAsync()); // before answering, bounded by the outbound timeouts (docs/design.md §6)
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

    public async Task<IntrospectionOutcome> IntrospectAsync(TenantRef tenant)
    {
        if (!await FindAsync(tenant))
            return new IntrospectionOutcome.NotFound();
        if (State.Status == SessionStatus.Ended)
            return new IntrospectionOutcome.Ended(State.EndReason!);
        var connector = await ConnectorAsync();
        if (connector is not IIntrospectConnector introspector)
            return new IntrospectionOutcome.NotSupported();
        TokenIntrospection? answer;
        try
        {
            answer = await introspector.IntrospectAsync(AccessToken(), "access_token", CancellationToken.None);
        }
        catch (ConnectorException e)
        {
            logger.LogWarning(e, "Introspection of a session's token failed at the provider");
            return new IntrospectionOutcome.Unavailable();
        }
        if (answer is null)
            return new IntrospectionOutcome.NotSupported();
        // Ended above or while the provider was asked (a refresh that failed meanwhile): nothing more to end.
        if (!answer.Active && State.Status == SessionStatus.Active)
        {
            await EndCoreAsync(EndReasons.Revoked, revoke: true);
            await TryRevokeAsync(connector);
            await ArmAsync();
        }
        return new IntrospectionOutcome.Answered(answer.Active, View());
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

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Wakeups.RecordLag(status, time);
        await TickAsync();
        if (!_calledByOthers)
            DeactivateOnIdle();
    }

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.Name != nameof(IRemindable.ReceiveReminder))
            _calledByOthers = true;
        return context.Invoke();
    }

    /// <summary>Whatever is due now: the purge, a revocation retry, the end of the lifetime, a refresh.</summary>
    private async Task TickAsync()
    {
        if (!state.RecordExists)
        {
            await this.CancelWakeupAsync(Reminder);
            return;
        }
        var now = Now;
        if (State.Status == SessionStatus.Ended)
        {
            if (State.RevocationPending)
                await TryRevokeAsync(await ConnectorAsync());
            if (now >= State.EndedAt + options.EndedSessionRetention)
            {
                await PurgeAsync();
                return;
            }
        }
        else if (now >= State.ExpiresAt)
        {
            await EndCoreAsync(EndReasons.Expired, revoke: true);
            await TryRevokeAsync(await ConnectorAsync());
        }
        else if (SessionSchedule.CannotRenewAfter(State, options.RefreshGiveUpAfter) <= now)
        {
            await EndAsUnrenewableAsync();
        }
        else if (SessionSchedule.RefreshDueAt(State) <= now)
        {
            await RefreshCoreAsync();
        }
        await ArmAsync();
    }

    /// <summary>An hour after it ended the session is gone: state, index row, reminder, activation.</summary>
    private async Task PurgeAsync()
    {
        await state.ClearStateAsync();
        await index.RemoveAsync([Id]);
        await this.CancelWakeupAsync(Reminder);
        _timer?.Dispose();
        _reminderAt = null;
        DeactivateOnIdle();
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
        else if (State.Status == SessionStatus.Active && SessionSchedule.CannotRenewAfter(State, options.RefreshGiveUpAfter) <= Now)
        {
            await EndAsUnrenewableAsync();
            await ArmAsync();
        }
        return true;
    }

    /// <summary>A session never stays active while it can no longer produce a token (docs/design.md §6).</summary>
    private async Task EndAsUnrenewableAsync()
    {
        logger.LogInformation("A session of {Tenant}/{Connection} can no longer renew its access token; ending it (refresh_failed)", State.TenantId, State.ConnectionId);
        await EndCoreAsync(EndReasons.RefreshFailed, revoke: true);
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
        if (force && refreshed is RefreshResult.Busy or RefreshResult.NoSlot or RefreshResult.Failed)
            return new TokenOutcome.Unavailable(refreshed switch
            {
                RefreshResult.Busy => "A refresh is already in progress.",
                RefreshResult.NoSlot => "The broker is refreshing many sessions at once; try again shortly.",
                _ => "The provider could not refresh the token.",
            });
        // Never hand out a token that has expired, whatever the refresh did.
        if (State.AccessTokenExpiresAt is { } expires && expires <= Now)
            return new TokenOutcome.Unavailable("The access token expired and could not be refreshed yet.");
        return new TokenOutcome.Token(AccessToken(), State.TokenType, State.AccessTokenExpiresAt, State.Scope);
    }

    private string AccessToken()
    {
        var stored = State.ProtectedAccessToken ?? "";
        if (_accessToken is not { } cached || cached.Protected != stored)
            _accessToken = cached = (stored, secrets.Unprotect(State.ProtectedAccessToken) ?? "");
        return cached.Plain;
    }

    /// <summary>The connector of the session's connection; null once the connection or that life of the tenant is gone.</summary>
    private async Task<IConnector?> ConnectorAsync()
    {
        var found = await GrainFactory.Tenant(State.TenantId).GetConnectionWithPolicyAsync(State.TenantIncarnation, State.ConnectionId);
        return found is null ? null : connectors.Create(found.Connection);
    }

    /// <summary>Sets the timer and the reminder for the next piece of work.</summary>
    private async Task ArmAsync()
    {
        var next = SessionSchedule.NextTick(State, options.EndedSessionRetention, options.RefreshGiveUpAfter, Now);
        SetTimer(next);
        if (next != _reminderAt)
        {
            await this.WakeAtAsync(Reminder, next, options, time);
            _reminderAt = next;
        }
    }

    private void SetTimer(DateTimeOffset at)
    {
        _timer?.Dispose();
        var due = at - Now;
        // KeepAlive off: an idle session's activation is still collected; the reminder wakes it then.
        _timer = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions
        {
            DueTime = due <= TimeSpan.Zero ? TimeSpan.Zero : due < LongestTimerWait ? due : LongestTimerWait,
            Period = Timeout.InfiniteTimeSpan,
        });
    }

    private UpstreamProfile Profile() => new(State.User!.Subject, State.User.Name, State.User.Email, State.User.AvatarUrl, State.User.Raw);

    private SessionView View() => new(
        Id,
        State.Status == SessionStatus.Active ? "active" : "ended",
        State.EndReason,
        State.User!,
        State.CreatedAt,
        State.ExpiresAt,
        State.AccessTokenExpiresAt,
        State.RefreshedAt);
}

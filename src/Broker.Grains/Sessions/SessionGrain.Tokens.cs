using Broker.Grains.Connectors;
using Broker.Grains.Events;
using Broker.Grains.Logins;
using Broker.Grains.Security;
using Broker.Grains.Tenants;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Broker.Grains.Sessions;

/// <summary>The session's tokens: refreshing them (claim, then act), revoking them, and keeping them encrypted.</summary>
public sealed partial class SessionGrain
{
    private async Task<RefreshResult> RefreshCoreAsync()
    {
        if (State.RefreshLeaseUntil > Now)
            return RefreshResult.Busy;
        if (await refreshSlots.TakeAsync(time) is not { } slot)
            return RefreshResult.NoSlot;
        using var held = slot;
        var now = Now;
        var staleLease = State.RefreshLeaseOwner is not null;

        if (await GrainFactory.Tenant(State.TenantId).GetConnectionWithPolicyAsync(State.TenantIncarnation, State.ConnectionId) is not ({ } connection, { } policy))
        {
            // The tenant or its connection was deleted: the session goes with it. Its tokens stay
            // (encrypted) for the deleted tenant's clean-up to revoke, until the session is purged.
            await EndCoreAsync(EndReasons.Revoked, revoke: true);
            return RefreshResult.Ended;
        }
        if (State.ProtectedRefreshToken is null || connectors.Create(connection) is not IRefreshConnector refresher)
        {
            State.RefreshUnsupported = true;
            await state.WriteStateAsync();
            return RefreshResult.Unsupported;
        }

        // A policy change applies at the next refresh (docs/design.md §6).
        State.RefreshLeadSeconds = policy.RefreshLeadSeconds;
        State.LifetimeSeconds = policy.LifetimeSeconds;
        // Claim, then act: only the silo whose lease write wins calls the provider. The lease never
        // outlives half the token's remaining life, so if this silo dies mid-call another still
        // refreshes before the token expires.
        var lease = LeaseFor(now);
        // Which silo holds the claim (for the operator reading a stuck session, and the cluster tests
        // that attribute a lost refresh to the silo that died), and which claim it is.
        State.RefreshLeaseOwner = $"{RuntimeIdentity} {RandomIds.New()}";
        State.RefreshLeaseUntil = now + lease;
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation of this session (during a membership change) wrote first.
            await state.ReadStateAsync();
            return RefreshResult.Busy;
        }

        UpstreamTokens fresh;
        using var leaseEnds = new CancellationTokenSource(lease, time); // the call never outlives the claim
        try
        {
            fresh = await refresher.RefreshAsync(CurrentTokens(), leaseEnds.Token);
        }
        catch (OperationCanceledException)
        {
            // The provider may have spent the refresh token without our hearing the answer: leave the
            // lease stale (owner set, time up), so a refusal on the next try counts as refresh_lost.
            logger.LogWarning("Refresh of a session of {Tenant}/{Connection} outlived its lease; retrying", State.TenantId, State.ConnectionId);
            State.RefreshLeaseUntil = Now;
            State.RefreshFailures++;
            State.RefreshFailingSince ??= Now;
            State.RetryRefreshAt = Now + SessionSchedule.Backoff(State.RefreshFailures);
            await state.WriteStateAsync();
            return RefreshResult.Failed;
        }
        catch (ConnectorException e) when (e.Kind == ConnectorErrorKind.InvalidGrant)
        {
            // After a stale lease, the refresh token was most likely spent by the silo that died
            // holding it: the loss docs/design.md §6 admits, counted apart from real refusals.
            var reason = staleLease ? EndReasons.RefreshLost : EndReasons.RefreshFailed;
            logger.LogInformation("Refresh refused for a session of {Tenant}/{Connection}; ending it ({Reason})", State.TenantId, State.ConnectionId, reason);
            if (staleLease)
                BrokerMetrics.RefreshLost.Add(1);
            BrokerMetrics.Refreshes.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            await EndCoreAsync(reason, revoke: false);
            return RefreshResult.Ended;
        }
        catch (ConnectorException e)
        {
            logger.LogWarning(e, "Refresh of a session of {Tenant}/{Connection} failed; retrying with backoff", State.TenantId, State.ConnectionId);
            await events.TryAppendAsync(logger, State.Tenant, EventTypes.RefreshFailed, State.ConnectionId, State.User?.Id, Id,
                new() { ["reason"] = e.Kind.ToString(), ["detail"] = AppErrorCodes.Printable(e.Message), ["failures"] = State.RefreshFailures + 1 });
            BrokerMetrics.Refreshes.Add(1, new KeyValuePair<string, object?>("outcome", "error"));
            State.RefreshFailures++;
            State.RefreshFailingSince ??= Now;
            State.RetryRefreshAt = Now + SessionSchedule.Backoff(State.RefreshFailures);
            State.RefreshLeaseOwner = null;
            State.RefreshLeaseUntil = null;
            await state.WriteStateAsync();
            return RefreshResult.Failed;
        }

        // The provider has spent the old refresh token: the new tokens are written as the very next step.
        StoreTokens(fresh, Now);
        State.RefreshedAt = Now;
        try
        {
            await WriteFreshTokensAsync(now + lease);
        }
        catch (InconsistentStateException)
        {
            // Only an end of the session (DELETE on another silo) writes while the lease is held.
            await state.ReadStateAsync();
            return State.Status == SessionStatus.Ended ? RefreshResult.Ended : RefreshResult.Busy;
        }
        BrokerMetrics.Refreshes.Add(1, new KeyValuePair<string, object?>("outcome", "ok"));
        return RefreshResult.Refreshed;
    }

    /// <summary>
    /// Writes the new tokens, trying again while the claim holds when the database fails (a full pool, a
    /// timeout): the old refresh token is spent, so these tokens are the session's only way on. A write
    /// that still fails leaves them in this activation, for its next write to store.
    /// </summary>
    private async Task WriteFreshTokensAsync(DateTimeOffset leaseEnds)
    {
        for (var wait = TimeSpan.FromMilliseconds(250); ; wait *= 2)
        {
            try
            {
                await state.WriteStateAsync();
                return;
            }
            catch (Exception e) when (e is not InconsistentStateException && Now + wait < leaseEnds)
            {
                logger.LogWarning(e, "Storing a session's refreshed tokens failed; trying again in {Wait}", wait);
                await Task.Delay(wait, time);
            }
        }
    }

    private TimeSpan LeaseFor(DateTimeOffset now)
    {
        if (State.AccessTokenExpiresAt is not { } expires)
            return options.RefreshLease;
        var half = (expires - now) / 2;
        return half < MinimumRefreshLease ? MinimumRefreshLease : half > options.RefreshLease ? options.RefreshLease : half;
    }

    private static readonly TimeSpan MinimumRefreshLease = TimeSpan.FromSeconds(5);

    private async Task EndCoreAsync(string reason, bool revoke)
    {
        State.Status = SessionStatus.Ended;
        State.EndReason = reason;
        State.EndedAt = Now;
        State.RefreshLeaseOwner = null;
        State.RefreshLeaseUntil = null;
        State.RevocationPending = revoke && (State.ProtectedAccessToken ?? State.ProtectedRefreshToken) is not null;
        if (!State.RevocationPending)
            ClearTokens();
        await state.WriteStateAsync();
        await index.MarkEndedAsync(Id);
        await events.TryAppendAsync(logger, State.Tenant, EventTypes.SessionEnded, State.ConnectionId, State.User?.Id, Id,
            new() { ["reason"] = reason });
    }

    /// <summary>Revokes the tokens upstream where the provider can. A failure, or no connection to send
    /// it with (the tenant is being deleted), leaves the revocation pending: the session's reminder
    /// tries again every 30 s until the session is purged with its tokens.</summary>
    private async Task TryRevokeAsync(IConnector? connector)
    {
        if (!State.RevocationPending || connector is null)
            return;
        if (connector is IRevokeConnector revoker)
        {
            try
            {
                await revoker.RevokeAsync(CurrentTokens(), CancellationToken.None);
            }
            catch (ConnectorException e) when (e.Kind == ConnectorErrorKind.UpstreamUnavailable)
            {
                logger.LogWarning(e, "Revocation for a session of {Tenant}/{Connection} failed; will retry", State.TenantId, State.ConnectionId);
                return;
            }
            catch (ConnectorException e)
            {
                logger.LogWarning(e, "Revocation for a session of {Tenant}/{Connection} refused; giving up", State.TenantId, State.ConnectionId);
            }
        }
        await GiveUpRevocationAsync();
    }

    /// <summary>Forgets the tokens: revoked, refused, or there is nothing to revoke them with.</summary>
    private async Task GiveUpRevocationAsync()
    {
        if (!State.RevocationPending)
            return;
        State.RevocationPending = false;
        ClearTokens();
        await state.WriteStateAsync();
    }

    private void StoreTokens(UpstreamTokens tokens, DateTimeOffset now)
    {
        State.ProtectedAccessToken = secrets.Protect(tokens.AccessToken);
        State.TokenType = tokens.TokenType;
        // Providers that do not rotate refresh tokens leave the old one in force (RFC 6749 §6).
        State.ProtectedRefreshToken = tokens.RefreshToken is null ? State.ProtectedRefreshToken : secrets.Protect(tokens.RefreshToken);
        State.ProtectedIdToken = tokens.IdToken is null ? State.ProtectedIdToken : secrets.Protect(tokens.IdToken);
        State.Scope = tokens.Scope ?? State.Scope;
        State.AccessTokenIssuedAt = now;
        State.AccessTokenExpiresAt = tokens.ExpiresAt;
        State.RefreshFailures = 0;
        State.RetryRefreshAt = null;
        State.RefreshFailingSince = null;
        State.RefreshLeaseOwner = null;
        State.RefreshLeaseUntil = null;
    }

    private void ClearTokens()
    {
        State.ProtectedAccessToken = null;
        State.ProtectedRefreshToken = null;
        State.ProtectedIdToken = null;
    }

    private UpstreamTokens CurrentTokens() => new(
        secrets.Unprotect(State.ProtectedAccessToken) ?? "",
        State.TokenType,
        secrets.Unprotect(State.ProtectedRefreshToken),
        secrets.Unprotect(State.ProtectedIdToken),
        State.AccessTokenExpiresAt,
        State.Scope);
}

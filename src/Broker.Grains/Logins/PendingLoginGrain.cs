using Broker.Grains.Connectors;
using Broker.Grains.Events;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Storage;

namespace Broker.Grains.Logins;

/// <remarks>A login whose user never comes back expires with its stored time; its row is swept by the
/// host's storage housekeeping rather than by a reminder per login.
/// <para>Placed on the silo whose front end began it: that call is local, the callback usually comes back
/// through the same front end, and the silo that served a login is the one whose metrics count it.</para></remarks>
[GrainType("login")]
[PreferLocalPlacement]
public sealed class PendingLoginGrain(
    [PersistentState("login", BrokerStorage.Name)] IPersistentState<PendingLoginState> state,
    ConnectorFactory connectors,
    SecretProtector secrets,
    HandoffCodes handoffCodes,
    BrokerGrainOptions options,
    TimeProvider time,
    ITenantEventLog events,
    ILogger<PendingLoginGrain> logger) : Grain, IPendingLoginGrain
{
    private PendingLoginState State => state.State;

    public async Task<BeginLoginResult> BeginAsync(BeginLogin login)
    {
        if (state.RecordExists)
            return new BeginLoginResult.Failed("server_error", "This state value is already in use.");
        var connection = (await GrainFactory.Tenant(login.Tenant.Id).GetConnectionWithPolicyAsync(login.Tenant.Incarnation, login.ConnectionId))?.Connection;
        if (connection is null)
            return new BeginLoginResult.Failed("connection_not_found", $"No connection '{login.ConnectionId}'.");
        if (login.Hints?.ExtraScopes?.FirstOrDefault(s => !connection.AllowedExtraScopes.Contains(s) && !connection.Scopes.Contains(s)) is { } notAllowed)
            return new BeginLoginResult.Refused($"The sign-in link asks for the scope '{notAllowed}', which this application may not request.");

        var verifier = connection.UsePkce ? Pkce.CreateVerifier() : null;
        var nonce = RandomIds.New();
        AuthorizeRedirect redirect;
        try
        {
            var input = new AuthorizeInput(login.RedirectUri, GrainKeys.IdOf(this), nonce, verifier is null ? null : Pkce.ComputeChallenge(verifier), login.Hints);
            redirect = await connectors.Create(connection).BuildAuthorizeRequestAsync(input, CancellationToken.None);
        }
        catch (ConnectorException e)
        {
            logger.LogWarning(e, "Cannot begin a login on {Tenant}/{Connection}", login.Tenant.Id, login.ConnectionId);
            return new BeginLoginResult.Failed(AppErrorCodes.FromConnector(e), e.Message);
        }

        var now = time.GetUtcNow();
        state.State = new PendingLoginState
        {
            Status = PendingLoginStatus.Pending,
            TenantId = login.Tenant.Id,
            TenantIncarnation = login.Tenant.Incarnation,
            ConnectionId = login.ConnectionId,
            ReturnTo = login.ReturnTo,
            AppState = login.AppState,
            RedirectUri = login.RedirectUri,
            ProtectedCodeVerifier = secrets.Protect(verifier),
            Nonce = nonce,
            ConnectorData = redirect.ConnectorData,
            LinkToUserId = login.LinkToUserId,
            Oidc = login.Oidc,
            CreatedAt = now,
            ExpiresAt = now + options.LoginLifetime,
        };
        await state.WriteStateAsync();
        CountLogin(State, "begun");
        return new BeginLoginResult.Redirect(redirect.Url, State.ExpiresAt);
    }

    public async Task<CompleteLoginResult> CompleteAsync(TenantRef tenant, CallbackInput callback)
    {
        if (State.Status != PendingLoginStatus.Pending || State.Tenant != tenant)
            return new CompleteLoginResult.Rejected("unknown or already used state");
        if (time.GetUtcNow() >= State.ExpiresAt)
            return new CompleteLoginResult.Rejected("expired state");

        // Claim, then act (docs/design.md §2): deleting the state with a conditional write lets exactly one
        // silo through, and it happens before the code exchange, so a replayed state can never yield
        // a second session. The login goes on from the copy in hand.
        var login = State;
        try
        {
            await state.ClearStateAsync();
        }
        catch (InconsistentStateException)
        {
            await state.ReadStateAsync();
            return new CompleteLoginResult.Rejected("state used concurrently");
        }
        DeactivateOnIdle();

        var result = await ExchangeAsync(login, callback);
        if (login.Oidc is { } oidc)
        {
            result = result switch
            {
                CompleteLoginResult.Success success => success with { ClientId = oidc.ClientId },
                CompleteLoginResult.AppError error => error with { ClientId = oidc.ClientId },
                _ => result,
            };
        }
        CountLogin(login, result is CompleteLoginResult.Success ? "completed" : "failed");
        if (result is CompleteLoginResult.AppError failed)
        {
            var detail = new System.Text.Json.Nodes.JsonObject { ["error"] = failed.Error, ["description"] = failed.Description };
            if (callback.Error is { } providerError)
                detail["providerError"] = AppErrorCodes.Printable(providerError);
            await events.TryAppendAsync(logger, login.Tenant, EventTypes.LoginFailed, login.ConnectionId, detail: detail);
        }
        return result;
    }

    private static void CountLogin(PendingLoginState login, string outcome) => BrokerMetrics.Logins.Add(1,
        new KeyValuePair<string, object?>("tenant", login.TenantId),
        new KeyValuePair<string, object?>("connection", login.ConnectionId),
        new KeyValuePair<string, object?>("outcome", outcome));

    private async Task<CompleteLoginResult> ExchangeAsync(PendingLoginState login, CallbackInput callback)
    {
        if (callback.Error is { } error)
            return new CompleteLoginResult.AppError(login.ReturnTo, AppErrorCodes.FromCallback(error), login.AppState, AppErrorCodes.DescribeCallback(callback));

        if (await GrainFactory.Tenant(login.TenantId).GetConnectionWithPolicyAsync(login.TenantIncarnation, login.ConnectionId) is not ({ } connection, { } policy))
            return new CompleteLoginResult.AppError(login.ReturnTo, "server_error", login.AppState, "The sign-in method was removed while the user was signing in.");

        LoginResult upstream;
        var connector = connectors.Create(connection);
        try
        {
            var pending = new PendingLoginData(login.RedirectUri, secrets.Unprotect(login.ProtectedCodeVerifier), login.Nonce, login.ConnectorData);
            upstream = await connector.CompleteAsync(callback, pending, CancellationToken.None);
        }
        catch (ConnectorException e)
        {
            logger.LogWarning(e, "Login on {Tenant}/{Connection} failed at the provider", login.TenantId, login.ConnectionId);
            return new CompleteLoginResult.AppError(login.ReturnTo, AppErrorCodes.FromConnector(e), login.AppState, AppErrorCodes.DescribeConnector(e, callback.Code));
        }

        var profile = upstream.Profile;
        var identity = new IdentityRef(login.ConnectionId, profile.Subject);
        var identityGrain = GrainFactory.Identity(login.Tenant, identity);
        var sessionId = RandomIds.New();
        SignIn SignInAs(string userId, bool create) => new(login.Tenant, identity, sessionId, new NewSession(
            login.Tenant, login.ConnectionId, userId,
            new UserView(userId, profile.Subject, login.ConnectionId, profile.Name, profile.Email, profile.AvatarUrl, profile.Raw),
            upstream.Tokens, policy.RefreshLeadSeconds, policy.LifetimeSeconds), create, Link: login.LinkToUserId is not null);

        string userId;
        SignInOutcome signedIn;
        if (login.LinkToUserId is { } linkTo)
        {
            // Never moved from another user: of two links of one identity at once, the identity grain lets one win.
            var claim = await identityGrain.ClaimAsync(login.Tenant, identity, linkTo);
            if (claim.UserId != linkTo)
                return await RefuseAsync(login, connector, upstream.Tokens, "identity already linked to another user");
            userId = linkTo;
            signedIn = await GrainFactory.User(userId).SignInAsync(SignInAs(userId, create: false));
            // A user deleted or blocked since the link was asked for does not keep an identity this login gave it.
            if (signedIn != SignInOutcome.Started && claim.IsNew)
                await identityGrain.ReleaseAsync(login.Tenant, userId);
            if (signedIn == SignInOutcome.Gone)
                return await RefuseAsync(login, connector, upstream.Tokens, "the user to link to no longer exists");
        }
        else
        {
            // A user deleted between the two calls leaves the identity naming it: freed, the next round makes a new user.
            for (var attempt = 1; ; attempt++)
            {
                userId = (await identityGrain.ResolveAsync(login.Tenant, identity)).UserId;
                signedIn = await GrainFactory.User(userId).SignInAsync(SignInAs(userId, create: true));
                if (signedIn != SignInOutcome.Gone || attempt == 3)
                    break;
                await identityGrain.ReleaseAsync(login.Tenant, userId);
            }
            if (signedIn == SignInOutcome.Gone)
            {
                await TryRevokeAsync(connector, upstream.Tokens);
                return new CompleteLoginResult.AppError(login.ReturnTo, "server_error", login.AppState, "The user record could not be found or made; try signing in again.");
            }
        }
        if (signedIn == SignInOutcome.Blocked)
            return await RefuseAsync(login, connector, upstream.Tokens, "user blocked");
        await events.TryAppendAsync(logger, login.Tenant, EventTypes.LoginSucceeded, login.ConnectionId, userId, sessionId);
        if (login.Oidc is { } oidc)
        {
            // The app of the OpenID Provider gets an authorization code; the session is its, with no hand-off code.
            var authorizationCode = RandomIds.New();
            await GrainFactory.AuthorizationCode(authorizationCode).IssueAsync(new Provider.CodeGrant(login.Tenant, oidc, sessionId, userId, time.GetUtcNow()));
            return new CompleteLoginResult.Success(login.ReturnTo, authorizationCode, oidc.State);
        }
        var code = handoffCodes.Create(new HandoffCode(login.Tenant, sessionId, time.GetUtcNow() + options.HandoffLifetime));
        return new CompleteLoginResult.Success(login.ReturnTo, code, login.AppState);
    }

    /// <summary>A login refused after the provider signed the user in: access_denied to the app, and the tokens
    /// the provider issued revoked, since no session will ever hold them.</summary>
    private async Task<CompleteLoginResult> RefuseAsync(PendingLoginState login, IConnector connector, UpstreamTokens tokens, string description)
    {
        await TryRevokeAsync(connector, tokens);
        return new CompleteLoginResult.AppError(login.ReturnTo, "access_denied", login.AppState, description);
    }

    private async Task TryRevokeAsync(IConnector connector, UpstreamTokens tokens)
    {
        if (connector is not IRevokeConnector revoker)
            return;
        try
        {
            await revoker.RevokeAsync(tokens, CancellationToken.None);
        }
        catch (ConnectorException e)
        {
            logger.LogWarning(e, "The tokens of a refused login could not be revoked at the provider");
        }
    }
}

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
            CreatedAt = now,
            ExpiresAt = now + options.LoginLifetime,
        };
        await state.WriteStateAsync();
        CountLogin(State, "begun");
        return new BeginLoginResult.Redirect(redirect.Url);
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
        try
        {
            var pending = new PendingLoginData(login.RedirectUri, secrets.Unprotect(login.ProtectedCodeVerifier), login.Nonce, login.ConnectorData);
            upstream = await connectors.Create(connection).CompleteAsync(callback, pending, CancellationToken.None);
        }
        catch (ConnectorException e)
        {
            logger.LogWarning(e, "Login on {Tenant}/{Connection} failed at the provider", login.TenantId, login.ConnectionId);
            return new CompleteLoginResult.AppError(login.ReturnTo, AppErrorCodes.FromConnector(e), login.AppState, AppErrorCodes.DescribeConnector(e, callback.Code));
        }

        var profile = upstream.Profile;
        var userId = UserIds.For(login.Tenant, login.ConnectionId, profile.Subject);
        var user = new UserView(userId, profile.Subject, login.ConnectionId, profile.Name, profile.Email, profile.AvatarUrl, profile.Raw);
        var sessionId = RandomIds.New();
        // Two grains, two writes that do not depend on each other: made at once. The code reaches the
        // app only after both are stored.
        await Task.WhenAll(
            GrainFactory.Session(sessionId).StartAsync(new NewSession(
                login.Tenant, login.ConnectionId, userId, user, upstream.Tokens, policy.RefreshLeadSeconds, policy.LifetimeSeconds)),
            GrainFactory.User(userId).LinkSessionAsync(login.Tenant, user, sessionId));
        await events.TryAppendAsync(logger, login.Tenant, EventTypes.LoginSucceeded, login.ConnectionId, userId, sessionId);
        var code = handoffCodes.Create(new HandoffCode(login.Tenant, sessionId, time.GetUtcNow() + options.HandoffLifetime));
        return new CompleteLoginResult.Success(login.ReturnTo, code, login.AppState);
    }
}

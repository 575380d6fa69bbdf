using Broker.Grains.Connectors;
using Broker.Grains.Runtime;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Microsoft.Extensions.Logging;

namespace Broker.Grains.Logins;

public sealed class PendingLoginGrain(
    GrainContext context,
    ConnectorFactory connectors,
    SecretProtector secrets,
    BrokerGrainOptions options,
    TimeProvider time,
    ILogger<PendingLoginGrain> logger) : IPendingLoginGrain, IRemindable
{
    private const string ExpiryReminder = "expire";

    private readonly PersistentState<PendingLoginState> _state = context.GetState<PendingLoginState>();

    private PendingLoginState State => _state.State;

    public async Task<BeginLoginResult> BeginAsync(BeginLogin login)
    {
        if (_state.RecordExists)
            return new BeginLoginResult.Failed("server_error", "This state value is already in use.");
        var connection = (await context.GrainFactory.GetGrain<ITenantGrain>(login.Tenant.Id).GetConnectionWithPolicyAsync(login.Tenant.Incarnation, login.ConnectionId))?.Connection;
        if (connection is null)
            return new BeginLoginResult.Failed("connection_not_found", $"No connection '{login.ConnectionId}'.");

        var verifier = connection.UsePkce ? Pkce.CreateVerifier() : null;
        var nonce = RandomIds.New();
        AuthorizeRedirect redirect;
        try
        {
            var input = new AuthorizeInput(login.RedirectUri, context.Key, nonce, verifier is null ? null : Pkce.ComputeChallenge(verifier));
            redirect = await connectors.Create(connection).BuildAuthorizeRequestAsync(input, CancellationToken.None);
        }
        catch (ConnectorException e)
        {
            logger.LogWarning(e, "Cannot begin a login on {Tenant}/{Connection}", login.Tenant.Id, login.ConnectionId);
            return new BeginLoginResult.Failed(AppErrorCodes.FromConnector(e), e.Message);
        }

        var now = time.GetUtcNow();
        _state.State = new PendingLoginState
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
        await _state.WriteStateAsync();
        await context.RegisterOrUpdateReminderAsync(ExpiryReminder, State.ExpiresAt);
        CountLogin("begun");
        return new BeginLoginResult.Redirect(redirect.Url);
    }

    public async Task<CompleteLoginResult> CompleteAsync(TenantRef tenant, CallbackInput callback)
    {
        if (State.Status != PendingLoginStatus.Pending || State.Tenant != tenant)
            return new CompleteLoginResult.Rejected("unknown or already used state");
        if (time.GetUtcNow() >= State.ExpiresAt)
            return new CompleteLoginResult.Rejected("expired state");

        // Claim, then act (DESIGN.md §2): the conditional write lets exactly one silo through, and it
        // happens before the code exchange, so a replayed state can never yield a second session.
        State.Status = PendingLoginStatus.Consumed;
        try
        {
            await _state.WriteStateAsync();
        }
        catch (StateConflictException)
        {
            return new CompleteLoginResult.Rejected("state used concurrently");
        }

        var result = await ExchangeAsync(callback);
        CountLogin(result is CompleteLoginResult.Success ? "completed" : "failed");
        await _state.ClearStateAsync();
        await context.UnregisterReminderAsync(ExpiryReminder);
        return result;
    }

    public async Task ReceiveReminderAsync(string name, ReminderTick tick)
    {
        if (_state.RecordExists && time.GetUtcNow() >= State.ExpiresAt)
            await _state.ClearStateAsync();
        await context.UnregisterReminderAsync(ExpiryReminder);
    }

    private void CountLogin(string outcome) => BrokerMetrics.Logins.Add(1,
        new KeyValuePair<string, object?>("tenant", State.TenantId),
        new KeyValuePair<string, object?>("connection", State.ConnectionId),
        new KeyValuePair<string, object?>("outcome", outcome));

    private async Task<CompleteLoginResult> ExchangeAsync(CallbackInput callback)
    {
        var login = State;
        if (callback.Error is { } error)
            return new CompleteLoginResult.AppError(login.ReturnTo, AppErrorCodes.FromCallback(error), login.AppState);

        if (await context.GrainFactory.GetGrain<ITenantGrain>(login.TenantId).GetConnectionWithPolicyAsync(login.TenantIncarnation, login.ConnectionId) is not ({ } connection, { } policy))
            return new CompleteLoginResult.AppError(login.ReturnTo, "server_error", login.AppState);

        LoginResult upstream;
        try
        {
            var pending = new PendingLoginData(login.RedirectUri, secrets.Unprotect(login.ProtectedCodeVerifier), login.Nonce, login.ConnectorData);
            upstream = await connectors.Create(connection).CompleteAsync(callback, pending, CancellationToken.None);
        }
        catch (ConnectorException e)
        {
            logger.LogWarning(e, "Login on {Tenant}/{Connection} failed at the provider", login.TenantId, login.ConnectionId);
            return new CompleteLoginResult.AppError(login.ReturnTo, AppErrorCodes.FromConnector(e), login.AppState);
        }

        var profile = upstream.Profile;
        var userId = UserIds.For(login.Tenant, login.ConnectionId, profile.Subject);
        var user = new UserView(userId, profile.Subject, login.ConnectionId, profile.Name, profile.Email, profile.AvatarUrl, profile.Raw);
        var sessionId = RandomIds.New();
        await context.GrainFactory.GetGrain<ISessionGrain>(sessionId).StartAsync(new NewSession(
            login.Tenant, login.ConnectionId, userId, user, upstream.Tokens, policy.RefreshLeadSeconds, policy.LifetimeSeconds));
        await context.GrainFactory.GetGrain<IUserGrain>(userId).LinkSessionAsync(login.Tenant, user, sessionId);

        var code = RandomIds.New();
        await context.GrainFactory.GetGrain<IHandoffCodeGrain>(code).CreateAsync(login.Tenant, sessionId, time.GetUtcNow() + options.HandoffLifetime);
        return new CompleteLoginResult.Success(login.ReturnTo, code, login.AppState);
    }
}

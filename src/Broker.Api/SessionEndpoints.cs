using Broker.Grains;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary>What a tenant's back end does with logins: redeem hand-off codes, read sessions and tokens, end sessions.</summary>
public static class SessionEndpoints
{
    public static IEndpointRouteBuilder MapSessionEndpoints(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/api/tenants/{tenant}/sessions").WithTags("Sessions");
        sessions.MapPost("/exchange", ExchangeAsync).WithName("ExchangeCode");
        sessions.MapGet("/{session}", GetAsync).WithName("GetSession");
        sessions.MapGet("/{session}/token", GetTokenAsync).WithName("GetSessionToken");
        sessions.MapPost("/{session}/refresh", RefreshAsync).WithName("RefreshSession");
        sessions.MapPost("/{session}/introspect", IntrospectAsync).WithName("IntrospectSession");
        sessions.MapDelete("/{session}", DeleteAsync).WithName("DeleteSession");
        var users = app.MapGroup("/api/tenants/{tenant}/users").WithTags("Sessions");
        users.MapGet("/{user}/sessions", ListUserSessionsAsync).WithName("ListUserSessions");
        users.MapDelete("/{user}/sessions", EndUserSessionsAsync).WithName("EndUserSessions");
        return app;
    }

    /// <summary>
    /// Redeems a hand-off code. The code is only checked before authentication and redeemed after
    /// it, so a call with a wrong key (or over the rate limit) never uses up a user's login.
    /// </summary>
    public static async Task<Results<Ok<ExchangeResponse>, ProblemHttpResult>> ExchangeAsync(string tenant, HttpContext http, IGrainFactory grains, HandoffCodes codes)
    {
        var body = await JsonBody.ReadAsync<ExchangeBody>(http.Request, b => b.Code is null
            ? new Dictionary<string, string[]> { ["code"] = ["is required."] }
            : new Dictionary<string, string[]>());
        var code = body.Value?.Code;
        HandoffCode? handoff = null;
        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant))],
            Body = body.Check,
            Tenant = tenant,
            // A code of the wrong shape cannot be one of ours: invalid_grant without decrypting it.
            GrantIsValidAsync = async owner =>
                HandoffCodes.IsWellFormed(code) && (handoff = codes.Read(code!, owner)) is not null
                && await grains.Session(handoff.SessionId).CanRedeemHandoffAsync(owner),
            RateLimit = RateLimitedRoute.Exchange,
        });
        if (check.Refused is { } refused)
            return refused;

        if (await grains.Session(handoff!.SessionId).RedeemHandoffAsync(check.Tenant!) is not { } view)
            return Problems.InvalidGrant();
        NoStore(http);
        return TypedResults.Ok(new ExchangeResponse(view.SessionId, UserResponse.From(view.User), view.ExpiresAt));
    }

    public static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> GetAsync(string tenant, string session, HttpContext http, IGrainFactory grains)
    {
        SessionView? view = null;
        var check = await ApiChecks.RunAsync(http, SessionRules(tenant, session,
            async owner => (view = await grains.Session(session).GetAsync(owner)) is not null));
        if (check.Refused is { } refused)
            return refused;
        NoStore(http);
        return TypedResults.Ok(SessionResponse.From(view!));
    }

    /// <summary>A currently valid upstream access token; the one response that carries a token.</summary>
    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> GetTokenAsync(string tenant, string session, HttpContext http, IGrainFactory grains)
    {
        var grain = grains.Session(session);
        TokenOutcome? outcome = null;
        var check = await ApiChecks.RunAsync(http, SessionRules(tenant, session,
            async owner => await grain.GetAsync(owner) is not null,
            async owner => (outcome = await grain.GetTokenAsync(owner)) is not TokenOutcome.NotFound));
        if (check.Refused is { } refused)
            return refused;
        return (outcome ?? await grain.GetTokenAsync(check.Tenant!)) switch
        {
            TokenOutcome.Token token => Token(http, token),
            var other => Failure(http, other),
        };
    }

    /// <summary>Refreshes now and answers the session view afterwards (status, new token expiry), never the token.</summary>
    public static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> RefreshAsync(string tenant, string session, HttpContext http, IGrainFactory grains)
    {
        var grain = grains.Session(session);
        var check = await ApiChecks.RunAsync(http, SessionRules(tenant, session, async owner => await grain.GetAsync(owner) is not null));
        if (check.Refused is { } refused)
            return refused;
        var outcome = await grain.RefreshAsync(check.Tenant!);
        if (outcome is not TokenOutcome.Token)
            return Failure(http, outcome);
        var view = await grain.GetAsync(check.Tenant!);
        NoStore(http);
        return view is null ? Problems.NotFound("session") : TypedResults.Ok(SessionResponse.From(view));
    }

    /// <summary>Asks the provider whether the session's token is still active (RFC 7662); when it is not, the
    /// session has ended (<c>revoked</c>) by the time of the answer.</summary>
    public static async Task<Results<Ok<IntrospectionResponse>, ProblemHttpResult>> IntrospectAsync(string tenant, string session, HttpContext http, IGrainFactory grains)
    {
        var grain = grains.Session(session);
        var check = await ApiChecks.RunAsync(http, SessionRules(tenant, session, async owner => await grain.GetAsync(owner) is not null));
        if (check.Refused is { } refused)
            return refused;
        NoStore(http);
        return await grain.IntrospectAsync(check.Tenant!) switch
        {
            IntrospectionOutcome.Answered answered => TypedResults.Ok(new IntrospectionResponse(answered.Active, SessionResponse.From(answered.View))),
            IntrospectionOutcome.NotSupported => Problems.Create(StatusCodes.Status409Conflict, "no_introspection", "This connection's provider has no token introspection."),
            IntrospectionOutcome.Ended ended => Problems.SessionEnded(ended.Reason),
            IntrospectionOutcome.Unavailable => Problems.UpstreamUnavailable(http),
            _ => Problems.NotFound("session"),
        };
    }

    /// <summary>Logs the session out: upstream tokens are revoked where the provider can, before the answer.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string tenant, string session, HttpContext http, IGrainFactory grains)
    {
        var grain = grains.Session(session);
        var check = await ApiChecks.RunAsync(http, SessionRules(tenant, session, async owner => await grain.GetAsync(owner) is not null));
        if (check.Refused is { } refused)
            return refused;
        return await grain.EndAsync(check.Tenant!, EndReasons.Logout) ? TypedResults.NoContent() : Problems.NotFound("session");
    }

    public static async Task<Results<Ok<ItemsResponse<SessionResponse>>, ProblemHttpResult>> ListUserSessionsAsync(string tenant, string user, HttpContext http, IGrainFactory grains)
    {
        IReadOnlyList<SessionView>? sessions = null;
        var check = await ApiChecks.RunAsync(http, UserRules(tenant, user,
            async owner => (sessions = await grains.User(user).ListSessionsAsync(owner)) is not null));
        if (check.Refused is { } refused)
            return refused;
        NoStore(http);
        return TypedResults.Ok(new ItemsResponse<SessionResponse>(sessions!.Select(SessionResponse.From).ToList()));
    }

    /// <summary>Ends every active session of the user (end reason <c>revoked</c>).</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> EndUserSessionsAsync(string tenant, string user, HttpContext http, IGrainFactory grains)
    {
        var grain = grains.User(user);
        var check = await ApiChecks.RunAsync(http, UserRules(tenant, user, async owner => await grain.ListSessionsAsync(owner) is not null));
        if (check.Refused is { } refused)
            return refused;
        return await grain.EndAllSessionsAsync(check.Tenant!) ? TypedResults.NoContent() : Problems.NotFound("user");
    }

    private static Rules SessionRules(string tenant, string session, Func<TenantRef, Task<bool>> exists, Func<TenantRef, Task<bool>>? existsAndAct = null) => new()
    {
        Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("session", Ids.IsSession(session))],
        Tenant = tenant,
        Resource = new Lookup("session", exists) { ExistsAndActAsync = existsAndAct },
    };

    private static Rules UserRules(string tenant, string user, Func<TenantRef, Task<bool>> exists) => new()
    {
        Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("user", Ids.IsUser(user))],
        Tenant = tenant,
        Resource = new Lookup("user", exists),
    };

    private static Ok<TokenResponse> Token(HttpContext http, TokenOutcome.Token token)
    {
        NoStore(http);
        return TypedResults.Ok(new TokenResponse(token.AccessToken, token.TokenType, token.ExpiresAt, token.Scope));
    }

    private static ProblemHttpResult Failure(HttpContext http, TokenOutcome outcome) => outcome switch
    {
        TokenOutcome.Ended ended => Problems.SessionEnded(ended.Reason),
        TokenOutcome.Unavailable => Problems.UpstreamUnavailable(http),
        _ => Problems.NotFound("session"),
    };

    // Session views and tokens are per-user data; no cache may keep them (RFC 6749 §5.1 for tokens).
    private static void NoStore(HttpContext http) => http.Response.Headers.CacheControl = "no-store";
}

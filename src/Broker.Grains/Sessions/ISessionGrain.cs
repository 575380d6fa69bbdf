using Broker.Grains.Connectors;
using Broker.Grains.Tenants;

namespace Broker.Grains.Sessions;

/// <summary>
/// A user's session with the upstream tokens it owns (encrypted at rest). It refreshes the access
/// token <c>refreshLeadSeconds</c> before it expires and ends itself at its absolute lifetime, on a
/// grain timer while active and on a reminder when its activation was collected or its silo died.
/// Keyed by the session id (256 random bits).
/// </summary>
[Alias("session"), GrainInterfaceType("session")]
public interface ISessionGrain : IGrainWithStringKey
{
    Task StartAsync(NewSession session);

    /// <summary>The session, or null when it never existed, belongs to another tenant, or ended over an hour ago.</summary>
    Task<SessionView?> GetAsync(TenantRef tenant);

    /// <summary>Whether the session's hand-off code (<see cref="HandoffCodes"/>) can still be redeemed, without redeeming it.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<bool> CanRedeemHandoffAsync(TenantRef tenant);

    /// <summary>Redeems the session's hand-off code, once: the session, or null when it was redeemed already
    /// (here or by another activation), ended, or is another tenant's.</summary>
    Task<SessionView?> RedeemHandoffAsync(TenantRef tenant);

    /// <summary>A currently valid access token, refreshed first when it is about to expire.</summary>
    Task<TokenOutcome> GetTokenAsync(TenantRef tenant);

    /// <summary>Refreshes now.</summary>
    Task<TokenOutcome> RefreshAsync(TenantRef tenant);

    /// <summary>Ends the session: revokes upstream tokens where the provider can (bounded by the outbound timeout).</summary>
    /// <param name="reason">One of <see cref="EndReasons"/>.</param>
    /// <returns>False when there is no such session for this tenant.</returns>
    Task<bool> EndAsync(TenantRef tenant, string reason);

    /// <summary>Calls the provider's API with the session's token (refreshed first if due, and once more
    /// if the provider says the token is no longer good). Targets outside the API base are refused unsent.</summary>
    Task<UpstreamCallOutcome> CallUpstreamAsync(TenantRef tenant, UpstreamCall call);

    /// <summary>Asks the provider whether the session's access token is still active (RFC 7662); an inactive
    /// one ends the session as <c>revoked</c>, its tokens revoked upstream as a logout does.</summary>
    Task<IntrospectionOutcome> IntrospectAsync(TenantRef tenant);

    /// <summary>For the browser logout route: ends the session (reason logout) and returns the provider's logout URL, if it has one.</summary>
    Task<Uri?> LogoutAsync(TenantRef tenant, string postLogoutRedirectUri);

    /// <summary>The tenant <paramref name="tenant"/> was deleted: ends the session (<c>revoked</c>) and revokes
    /// its tokens with <paramref name="connection"/>, which the tenant no longer hands out.</summary>
    Task EndForRetiredTenantAsync(TenantRef tenant, ConnectionConfig? connection);
}

[GenerateSerializer, Immutable]
public sealed record NewSession(
    TenantRef Tenant,
    string ConnectionId,
    string UserId,
    UserView User,
    UpstreamTokens Tokens,
    int RefreshLeadSeconds,
    int LifetimeSeconds);

/// <summary>The normalised profile (docs/design.md §6): <c>{id, subject, connection, name, email, avatarUrl, raw}</c>.</summary>
[GenerateSerializer, Immutable]
public sealed record UserView(string Id, string Subject, string Connection, string? Name, string? Email, string? AvatarUrl, System.Text.Json.Nodes.JsonObject Raw);

/// <summary>What GET .../sessions/{id} shows; never a token.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionView(
    string SessionId,
    string Status,
    string? EndReason,
    UserView User,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? AccessTokenExpiresAt,
    DateTimeOffset? RefreshedAt);

public static class EndReasons
{
    public const string Logout = "logout";
    public const string Expired = "expired";
    public const string Revoked = "revoked";
    public const string RefreshFailed = "refresh_failed";
    public const string RefreshLost = "refresh_lost";
}

[GenerateSerializer, Immutable]
public abstract record TokenOutcome
{
    [GenerateSerializer, Immutable]
    public sealed record Token(string AccessToken, string TokenType, DateTimeOffset? ExpiresAt, string? Scope) : TokenOutcome;

    /// <summary>No such session for this tenant (404).</summary>
    [GenerateSerializer, Immutable]
    public sealed record NotFound : TokenOutcome;

    /// <summary>The session has ended (409 session_ended with its reason).</summary>
    [GenerateSerializer, Immutable]
    public sealed record Ended(string Reason) : TokenOutcome;

    /// <summary>The provider could not be reached and the current token is expired or nearly so (503).</summary>
    [GenerateSerializer, Immutable]
    public sealed record Unavailable(string Detail) : TokenOutcome;
}

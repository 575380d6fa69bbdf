using System.Text.Json.Serialization;
using Broker.Grains.Connectors;
using Broker.Grains.Tenants;

namespace Broker.Grains.Sessions;

public enum SessionStatus { None, Active, Ended }

/// <summary>What a session persists. Tokens are stored encrypted; names are persisted JSON.</summary>
public sealed class SessionState
{
    public SessionStatus Status { get; set; }
    public string TenantId { get; set; } = "";
    public string TenantIncarnation { get; set; } = "";
    public string ConnectionId { get; set; } = "";
    public UserView? User { get; set; }

    public string? ProtectedAccessToken { get; set; }
    public string TokenType { get; set; } = "Bearer";
    public string? ProtectedRefreshToken { get; set; }
    public string? ProtectedIdToken { get; set; }
    public string? Scope { get; set; }
    public DateTimeOffset AccessTokenIssuedAt { get; set; }
    public DateTimeOffset? AccessTokenExpiresAt { get; set; }

    public int RefreshLeadSeconds { get; set; } = 60;
    public int LifetimeSeconds { get; set; } = 86_400;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RefreshedAt { get; set; }

    /// <summary>Set once the connector turned out not to refresh (no IRefreshConnector).</summary>
    public bool RefreshUnsupported { get; set; }
    public int RefreshFailures { get; set; }
    public DateTimeOffset? RetryRefreshAt { get; set; }

    /// <summary>When the refreshes that are still failing began to fail; cleared by a refresh that works.</summary>
    public DateTimeOffset? RefreshFailingSince { get; set; }

    /// <summary>A refresh in progress (claim, then act): the claiming silo's runtime identity and a random
    /// claim id. A lease found expired with an owner still set means the silo that took it died before
    /// writing the provider's answer.</summary>
    public string? RefreshLeaseOwner { get; set; }
    public DateTimeOffset? RefreshLeaseUntil { get; set; }

    /// <summary>Set when the app redeemed the hand-off code of the login that made the session.</summary>
    public bool HandoffRedeemed { get; set; }

    public DateTimeOffset? EndedAt { get; set; }
    public string? EndReason { get; set; }
    public bool RevocationPending { get; set; }

    [JsonIgnore] // derived, not stored
    public DateTimeOffset ExpiresAt => CreatedAt.AddSeconds(LifetimeSeconds);

    [JsonIgnore] // derived, not stored
    public TenantRef Tenant => new(TenantId, TenantIncarnation);
}

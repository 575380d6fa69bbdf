using System.Text.Json.Serialization;

namespace Broker.Grains.Logins;

public enum PendingLoginStatus { None, Pending, Consumed }

/// <summary>What a pending login persists. The PKCE verifier is encrypted like any other secret.</summary>
public sealed class PendingLoginState
{
    public PendingLoginStatus Status { get; set; }
    public string TenantId { get; set; } = "";
    public string TenantIncarnation { get; set; } = "";
    public string ConnectionId { get; set; } = "";
    public string ReturnTo { get; set; } = "";
    public string? AppState { get; set; }
    public string RedirectUri { get; set; } = "";
    public string? ProtectedCodeVerifier { get; set; }
    public string Nonce { get; set; } = "";
    public byte[]? ConnectorData { get; set; }
    public string? LinkToUserId { get; set; }
    public Provider.OidcAuthorization? Oidc { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    [JsonIgnore] // derived, not stored
    public Tenants.TenantRef Tenant => new(TenantId, TenantIncarnation);
}

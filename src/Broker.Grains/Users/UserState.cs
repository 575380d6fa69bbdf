using Broker.Grains.Sessions;
using Broker.Grains.Tenants;

namespace Broker.Grains.Users;

/// <summary>What a user persists. Names are persisted JSON.</summary>
public sealed class UserState
{
    public string TenantId { get; set; } = "";
    public string TenantIncarnation { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public bool Blocked { get; set; }

    /// <summary>A deleted user keeps only this mark, so that a login that resolved its id just before the
    /// deletion cannot make it again: only an id never used can become a user.</summary>
    public bool Deleted { get; set; }
    public List<UserIdentity> Identities { get; set; } = [];
    public List<UserSession> Sessions { get; set; } = [];

    public TenantRef Tenant() => new(TenantId, TenantIncarnation);
}

public sealed class UserIdentity
{
    public string Connection { get; set; } = "";
    public string Subject { get; set; } = "";
    public DateTimeOffset LinkedAt { get; set; }
    public DateTimeOffset LastLoginAt { get; set; }
    public UserView? Profile { get; set; }

    public bool Is(IdentityRef identity) => Connection == identity.Connection && Subject == identity.Subject;
}

/// <summary>A session of the user and the identity it signed in with (unlinking ends that identity's sessions).</summary>
public sealed class UserSession
{
    public string Id { get; set; } = "";
    public string Connection { get; set; } = "";
    public string Subject { get; set; } = "";
}

using Broker.Grains.Sessions;
using Broker.Grains.Tenants;

namespace Broker.Grains.Users;

/// <summary>
/// A broker user: one upstream subject of one connection of one tenant. Keyed by the broker user id,
/// which is derived from (tenant life, connection, subject) by <see cref="UserIds.For"/>, so login finds
/// the user without an index and the REST API finds it by the id it was given.
/// </summary>
[Alias("user"), GrainInterfaceType("user")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>Records a login: creates the user at first login, updates the profile, links the session.</summary>
    Task LinkSessionAsync(TenantRef tenant, UserView profile, string sessionId);

    /// <summary>The user's sessions (active and recently ended); null when no such user for this tenant.</summary>
    Task<IReadOnlyList<SessionView>?> ListSessionsAsync(TenantRef tenant);

    /// <summary>Ends every active session (reason revoked); false when no such user for this tenant.</summary>
    Task<bool> EndAllSessionsAsync(TenantRef tenant);

    /// <summary>Forgets the user of a deleted tenant (its sessions are ended by the tenant's clean-up).</summary>
    Task ForgetAsync(TenantRef tenant);
}

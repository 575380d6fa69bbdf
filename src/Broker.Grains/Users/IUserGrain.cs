using Broker.Grains.Sessions;

namespace Broker.Grains.Users;

/// <summary>
/// A broker user: one upstream subject of one connection of one tenant. Keyed by the broker user id,
/// which is derived from (tenant, connection, subject) by <see cref="UserIds.For"/>, so login finds
/// the user without an index and the REST API finds it by the id it was given.
/// </summary>
public interface IUserGrain
{
    /// <summary>Records a login: creates the user at first login, updates the profile, links the session.</summary>
    Task LinkSessionAsync(string tenantId, UserView profile, string sessionId);

    /// <summary>The user's sessions (active and recently ended); null when no such user for this tenant.</summary>
    Task<IReadOnlyList<SessionView>?> ListSessionsAsync(string tenantId);

    /// <summary>Ends every active session (reason revoked); false when no such user for this tenant.</summary>
    Task<bool> EndAllSessionsAsync(string tenantId);
}

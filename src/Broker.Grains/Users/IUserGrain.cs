using Broker.Grains.Sessions;
using Broker.Grains.Tenants;

namespace Broker.Grains.Users;

/// <summary>
/// A broker user: its identities (each with the profile of its last login), whether it is blocked, and its
/// sessions. Keyed by the opaque user id (<see cref="UserIds"/>); the identity grains map upstream accounts to it.
/// Its sessions are started inside its own turn, so a block or a deletion, which run in later turns, always
/// find and end every session a login made.
/// </summary>
[Alias("user"), GrainInterfaceType("user")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>A login through one of its identities: starts the session unless the user is blocked. With
    /// <see cref="SignIn.Create"/> an id never used becomes the user (two first logins of one identity may both
    /// arrive with it); a deleted user, or without it one that does not exist, is <see cref="SignInOutcome.Gone"/>.</summary>
    Task<SignInOutcome> SignInAsync(SignIn signIn);

    /// <summary>The user with its identities and its count of active sessions; null when no such user for this tenant.</summary>
    Task<UserDetails?> GetAsync(TenantRef tenant);

    /// <summary>Blocks (ending every session, revoked upstream) or unblocks; null when no such user.</summary>
    Task<UserDetails?> SetBlockedAsync(TenantRef tenant, bool blocked);

    /// <summary>Ends every session, forgets the profile and identities; false when no such user.</summary>
    Task<bool> DeleteAsync(TenantRef tenant);

    /// <summary>Unlinks one identity and ends its sessions; the user keeps at least one identity.</summary>
    Task<UnlinkOutcome> UnlinkAsync(TenantRef tenant, IdentityRef identity);

    /// <summary>The user's sessions (active and recently ended); null when no such user for this tenant.</summary>
    Task<IReadOnlyList<SessionView>?> ListSessionsAsync(TenantRef tenant);

    /// <summary>Ends every active session (reason revoked); false when no such user for this tenant.</summary>
    Task<bool> EndAllSessionsAsync(TenantRef tenant);

    /// <summary>Forgets the user of a deleted tenant (its sessions are ended by the tenant's clean-up).</summary>
    Task ForgetAsync(TenantRef tenant);
}

/// <param name="Link">The login was begun by a link URL: an identity new to the user is an <c>identity_linked</c> event.</param>
[GenerateSerializer, Immutable]
public sealed record SignIn(TenantRef Tenant, IdentityRef Identity, string SessionId, NewSession Session, bool Create, bool Link);

[GenerateSerializer]
public enum SignInOutcome { Started, Blocked, Gone }

[GenerateSerializer]
public enum UnlinkOutcome { Unlinked, UserNotFound, IdentityNotFound, LastIdentity }

/// <summary>One identity of a user as <c>GET .../users/{u}</c> shows it; <see cref="Profile"/> is the user shape of its last login.</summary>
[GenerateSerializer, Immutable]
public sealed record IdentityDetails(string Connection, string Subject, DateTimeOffset LinkedAt, DateTimeOffset LastLoginAt, UserView Profile);

[GenerateSerializer, Immutable]
public sealed record UserDetails(UserSummary Summary, IReadOnlyList<IdentityDetails> Identities, int ActiveSessions);

using Broker.Grains.Tenants;

namespace Broker.Grains.Users;

/// <summary>
/// One upstream account, (connection, subject), in one life of a tenant: which broker user it belongs to.
/// An identity belongs to exactly one user; calls to it never interleave, so of two logins that try to
/// link it to two users at once exactly one wins, and a conditional write keeps that true across silos.
/// </summary>
[Alias("identity"), GrainInterfaceType("identity")]
public interface IIdentityGrain : IGrainWithStringKey
{
    /// <summary>The identity's user; at its first login (or after it was unlinked or its user deleted), a new user id.</summary>
    Task<IdentityOwner> ResolveAsync(TenantRef tenant, IdentityRef identity);

    /// <summary>Gives the identity to <paramref name="userId"/> unless another user owns it; returns the owner afterwards
    /// (<see cref="IdentityOwner.IsNew"/> when this call gave it).</summary>
    Task<IdentityOwner> ClaimAsync(TenantRef tenant, IdentityRef identity, string userId);

    /// <summary>Frees the identity if <paramref name="userId"/> owns it: its next login makes a new user.</summary>
    Task ReleaseAsync(TenantRef tenant, string userId);
}

/// <summary>An upstream account: the connection it signs in with and the provider's subject.</summary>
[GenerateSerializer, Immutable]
public sealed record IdentityRef(string Connection, string Subject);

/// <param name="IsNew">This call gave the identity to the user (at a resolve: a new user id, whose user does not exist yet).</param>
[GenerateSerializer, Immutable]
public sealed record IdentityOwner(string UserId, bool IsNew);

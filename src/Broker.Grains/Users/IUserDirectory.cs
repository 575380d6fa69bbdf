using Broker.Grains.Tenants;

namespace Broker.Grains.Users;

/// <summary>A user as the directory lists it (docs/design.md §6 "Users and identities": userSummary).</summary>
[GenerateSerializer, Immutable]
public sealed record UserSummary(
    string Id, string? Name, string? Email, string? AvatarUrl, bool Blocked,
    DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt, IReadOnlyList<IdentityRef> Identities);

/// <summary>What to list: users matching every filter given, in creation order, after the position <see cref="After"/>.</summary>
/// <param name="Text">Matches the start of the name or e-mail (case-insensitive), or a subject exactly.</param>
public sealed record UserQuery(string? Connection, string? Text, int Limit, long? After);

/// <param name="Next">Where the next page starts; null on the last page.</param>
public sealed record UserPage(IReadOnlyList<UserSummary> Items, long? Next);

/// <summary>
/// The tenant's user directory, for <c>GET .../users</c>: a question no grain can answer, so each user grain
/// writes its summary here after every change it makes (login, link, unlink, block, delete). Users keep the
/// position they were first written at, so paging is stable while users are added. Memory keeps it in the
/// process; PostgreSQL in the table <c>broker_users</c>.
/// </summary>
public interface IUserDirectory
{
    Task UpsertAsync(TenantRef tenant, UserSummary user);

    Task RemoveAsync(string userId);

    Task<UserPage> ListAsync(TenantRef tenant, UserQuery query);
}

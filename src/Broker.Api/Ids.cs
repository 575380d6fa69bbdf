using Broker.Grains.Security;
using Broker.Grains.Tenants;
using Broker.Grains.Users;

namespace Broker.Api;

/// <summary>The id formats of docs/design.md §3; anything else is a 400 before a grain is touched.</summary>
public static class Ids
{
    public static bool IsTenantOrConnection(string? value) => ResourceIds.IsWellFormed(value);

    public static bool IsSession(string? value) => RandomIds.IsWellFormed(value);

    public static bool IsUser(string? value) => UserIds.IsWellFormed(value);
}

using Broker.Grains.Logins;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;

namespace Broker.Grains;

/// <summary>
/// How the broker's ids become grain keys. Every key gets a prefix that is no hexadecimal digit:
/// the ADO.NET storage stores a string key that parses as hex as an integer key (Orleans #9706),
/// so that tenant <c>cafe</c> and tenant <c>0cafe</c> would share state. Callers use these, never
/// <c>GetGrain</c> with a bare id.
/// </summary>
public static class GrainKeys
{
    public static ITenantGrain Tenant(this IGrainFactory grains, string tenantId) => grains.GetGrain<ITenantGrain>("t:" + tenantId);

    public static IRetiredTenantGrain RetiredTenant(this IGrainFactory grains, TenantRef tenant) =>
        grains.GetGrain<IRetiredTenantGrain>($"r:{tenant.Id}/{tenant.Incarnation}");

    public static IPendingLoginGrain PendingLogin(this IGrainFactory grains, string state) => grains.GetGrain<IPendingLoginGrain>("l:" + state);

    public static ISessionGrain Session(this IGrainFactory grains, string sessionId) => grains.GetGrain<ISessionGrain>("s:" + sessionId);

    public static IHandoffCodeGrain HandoffCode(this IGrainFactory grains, string code) => grains.GetGrain<IHandoffCodeGrain>("h:" + code);

    public static IUserGrain User(this IGrainFactory grains, string userId) => grains.GetGrain<IUserGrain>("u:" + userId);

    /// <summary>The broker's id inside a grain's key (what follows the prefix).</summary>
    public static string IdOf(IAddressable grain) => grain.GetPrimaryKeyString()[2..];
}

/// <summary>The grain storage every grain keeps its state in (Memory or PostgreSQL, chosen by the host).</summary>
public static class BrokerStorage
{
    public const string Name = "broker";
}

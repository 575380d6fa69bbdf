using System.Security.Cryptography;
using System.Text;
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
/// <remarks>
/// The grain and interface types are named here as the attributes on the grains and interfaces
/// name them, so a reference is made without Orleans resolving the interface type, which it does
/// on every <c>GetGrain&lt;T&gt;(key)</c> by reading the type's attributes: a measurable share of a
/// login's CPU when every request makes several references.
/// </remarks>
public static class GrainKeys
{
    public static ITenantGrain Tenant(this IGrainFactory grains, string tenantId) => Get<ITenantGrain>(grains, "tenant", "t:" + tenantId);

    public static IRetiredTenantGrain RetiredTenant(this IGrainFactory grains, TenantRef tenant) =>
        Get<IRetiredTenantGrain>(grains, "retired-tenant", $"r:{tenant.Id}/{tenant.Incarnation}");

    public static IPendingLoginGrain PendingLogin(this IGrainFactory grains, string state) => Get<IPendingLoginGrain>(grains, "login", "l:" + state);

    public static ISessionGrain Session(this IGrainFactory grains, string sessionId) => Get<ISessionGrain>(grains, "session", "s:" + sessionId);

    public static IUserGrain User(this IGrainFactory grains, string userId) => Get<IUserGrain>(grains, "user", "u:" + userId);

    /// <summary>The identity (connection, subject) in one life of a tenant. Subjects are the provider's strings,
    /// of any length and alphabet, so the key is their hash.</summary>
    public static IIdentityGrain Identity(this IGrainFactory grains, TenantRef tenant, IdentityRef identity)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{tenant.Id}\n{tenant.Incarnation}\n{identity.Connection}\n{identity.Subject}"));
        return Get<IIdentityGrain>(grains, "identity", "i:" + Convert.ToHexStringLower(hash));
    }

    public static Provider.IAuthorizationCodeGrain AuthorizationCode(this IGrainFactory grains, string code) =>
        Get<Provider.IAuthorizationCodeGrain>(grains, "authorization-code", "o:" + code);

    public static Provider.IGrantGrain Grant(this IGrainFactory grains, string grantId) => Get<Provider.IGrantGrain>(grains, "grant", "g:" + grantId);

    /// <param name="type">The grain's <c>[GrainType]</c>, which its interface's <c>[GrainInterfaceType]</c> repeats.</param>
    private static T Get<T>(IGrainFactory grains, string type, string key) =>
        (T)grains.GetGrain(GrainId.Create(type, key), GrainInterfaceType.Create(type));

    /// <summary>The broker's id inside a grain's key (what follows the prefix).</summary>
    public static string IdOf(IAddressable grain) => grain.GetPrimaryKeyString()[2..];
}

/// <summary>The grain storage every grain keeps its state in (Memory or PostgreSQL, chosen by the host).</summary>
public static class BrokerStorage
{
    public const string Name = "broker";
}

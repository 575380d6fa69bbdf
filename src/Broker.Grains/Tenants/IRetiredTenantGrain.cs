namespace Broker.Grains.Tenants;

/// <summary>
/// What a deleted tenant leaves to be cleaned up: the sessions of that life are ended (<c>revoked</c>)
/// and their tokens revoked upstream, in the background, with the connections handed over at
/// deletion; then the connections are forgotten. One per deleted life of a tenant.
/// </summary>
[Alias("retired-tenant"), GrainInterfaceType("retired-tenant")]
public interface IRetiredTenantGrain : IGrainWithStringKey
{
    /// <summary>Takes over the connections (secrets still encrypted) and starts at once. Reaping begins
    /// only when the tenant no longer is <paramref name="tenant"/>, so a deletion that fails after this
    /// call ends nothing.</summary>
    Task RetireAsync(TenantRef tenant, IReadOnlyDictionary<string, StoredConnection> connections);
}

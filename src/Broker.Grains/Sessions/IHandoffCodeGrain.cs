using Orleans.Concurrency;
using Broker.Grains.Tenants;

namespace Broker.Grains.Sessions;

/// <summary>
/// The one-time code the callback gives the app (valid 60 s). The app's back end redeems it with its
/// API key for the session. Keyed by the code (256 random bits).
/// </summary>
[Alias("handoff"), GrainInterfaceType("handoff")]
public interface IHandoffCodeGrain : IGrainWithStringKey
{
    Task CreateAsync(TenantRef tenant, string sessionId, DateTimeOffset expiresAt);

    /// <summary>True when the code is valid for this tenant now, without using it up.</summary>
    [ReadOnly]
    Task<bool> PeekAsync(TenantRef tenant);

    /// <summary>Uses the code up; returns the session id, or null when unknown, used, expired or another tenant's.</summary>
    Task<string?> RedeemAsync(TenantRef tenant);
}

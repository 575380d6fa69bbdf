using Broker.Grains.Tenants;

namespace Broker.Grains.Provider;

/// <summary>
/// What one redeemed authorization code gave an app: its tokens, bound to one broker session. Keyed by a random
/// grant id, which every token of the grant carries (the refresh token as its prefix, the access token as
/// <c>gid</c>). When the session ends, or the grant is revoked, its refresh fails and its access tokens are
/// inactive (docs/design.md §6 "OpenID Provider").
/// </summary>
[Alias("grant"), GrainInterfaceType("grant")]
public interface IGrantGrain : IGrainWithStringKey
{
    /// <summary>The first tokens, from a redeemed code.</summary>
    Task<TokenOutcome> StartAsync(CodeGrant grant, bool offlineAllowed);

    /// <summary>New tokens for the current refresh token's secret; the refresh token rotates. A spent one revokes the grant.</summary>
    Task<TokenOutcome> RefreshAsync(TenantRef tenant, string clientId, string refreshSecret);

    /// <summary>The grant as it stands: active while not revoked and its session is active. Null when unknown.</summary>
    Task<GrantView?> GetAsync(TenantRef tenant);

    /// <summary>Whether <paramref name="refreshSecret"/> is the grant's current refresh token (one rotated away is not),
    /// without using it or revoking anything: for introspection.</summary>
    Task<bool> IsCurrentRefreshTokenAsync(TenantRef tenant, string refreshSecret);

    Task RevokeAsync(TenantRef tenant);
}

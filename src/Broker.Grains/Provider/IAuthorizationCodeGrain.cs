using Broker.Grains.Tenants;

namespace Broker.Grains.Provider;

/// <summary>
/// One authorization code of a tenant's OpenID Provider, keyed by the code (256 random bits). Redeemed once:
/// the redemption is written (a conditional write) before any token is made, and a second redemption fails
/// and revokes what the first one issued (RFC 6749 §4.1.2, RFC 9700 §4.4).
/// </summary>
[Alias("authorization-code"), GrainInterfaceType("authorization-code")]
public interface IAuthorizationCodeGrain : IGrainWithStringKey
{
    Task IssueAsync(CodeGrant grant);

    /// <summary>Exchanges the code for tokens, for the client that was given it, at the redirect URI it was
    /// sent to, with the PKCE verifier of its challenge.</summary>
    Task<TokenOutcome> RedeemAsync(TenantRef tenant, string clientId, string? redirectUri, string? codeVerifier, bool offlineAllowed);
}

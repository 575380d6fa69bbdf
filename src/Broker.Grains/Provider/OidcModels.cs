using Broker.Grains.Tenants;

namespace Broker.Grains.Provider;

/// <summary>What an app's <c>/authorize</c> request asked for, carried by the pending login to the code it ends with.</summary>
[GenerateSerializer, Immutable]
public sealed record OidcAuthorization(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string RedirectUri,
    [property: Id(2)] string? State,
    [property: Id(3)] string? Nonce,
    [property: Id(4)] string? CodeChallenge,
    [property: Id(5)] IReadOnlyList<string> Scopes);

/// <summary>An authorization code's grant, written when the login that earned it completes.</summary>
[GenerateSerializer, Immutable]
public sealed record CodeGrant(TenantRef Tenant, OidcAuthorization Request, string SessionId, string UserId, DateTimeOffset AuthTime);

/// <summary>The tokens of one <c>/token</c> answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).</summary>
[GenerateSerializer, Immutable]
public sealed record TokenSet(string AccessToken, int ExpiresIn, string? IdToken, string? RefreshToken, string Scope);

/// <summary>A <c>/token</c> outcome: the tokens, or an RFC 6749 §5.2 error.</summary>
[GenerateSerializer, Immutable]
public sealed record TokenOutcome(TokenSet? Tokens, string? Error = null, string? Description = null)
{
    public static TokenOutcome InvalidGrant(string description) => new(null, "invalid_grant", description);
}

/// <summary>What the provider knows of a grant, for <c>/userinfo</c> and <c>/introspect</c>.</summary>
[GenerateSerializer, Immutable]
public sealed record GrantView(bool Active, string ClientId, string UserId, string SessionId, IReadOnlyList<string> Scopes);

public static class OidcScopes
{
    public const string OpenId = "openid";
    public const string Profile = "profile";
    public const string Email = "email";
    public const string OfflineAccess = "offline_access";

    public static readonly IReadOnlyList<string> Supported = [OpenId, Profile, Email, OfflineAccess];
}

/// <summary>How long what the provider issues lives (docs/design.md §6 "OpenID Provider").</summary>
public static class OidcLifetimes
{
    public static readonly TimeSpan Code = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan AccessToken = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan IdToken = TimeSpan.FromMinutes(5);
}

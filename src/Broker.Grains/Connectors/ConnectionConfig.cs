namespace Broker.Grains.Connectors;

/// <summary>
/// A tenant's client configuration at one upstream provider, as the connections REST API
/// (docs/design.md §3) describes it. The secret is plaintext here: encrypting it at rest is the
/// tenant grain's job, connectors only ever see the decrypted value.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ConnectionConfig
{
    /// <summary>The connection id inside its tenant (<c>^[a-z0-9][a-z0-9-]{1,62}$</c>).</summary>
    [Id(0)]
    public required string Id { get; init; }

    /// <summary>One of <see cref="ConnectionTypes"/>; selects the connector.</summary>
    [Id(1)]
    public required string Type { get; init; }

    /// <summary>The client id registered at the provider.</summary>
    [Id(2)]
    public string? ClientId { get; init; }

    /// <summary>The client secret registered at the provider (plaintext; never logged).</summary>
    [Id(3)]
    public string? ClientSecret { get; init; }

    /// <summary>Scopes to request; empty means the connector's default.</summary>
    [Id(4)]
    public IReadOnlyList<string> Scopes { get; init; } = [];

    /// <summary>The OIDC issuer identifier; discovery is read from <c>{Issuer}/.well-known/openid-configuration</c>.</summary>
    [Id(5)]
    public string? Issuer { get; init; }

    /// <summary>Root of a provider's private deployment; provider types derive their endpoints from it.</summary>
    [Id(6)]
    public string? BaseUrl { get; init; }

    /// <summary>Explicit endpoints; each one set overrides the discovered or default one.</summary>
    [Id(7)]
    public ConnectionEndpoints Endpoints { get; init; } = new();

    /// <summary>How the client authenticates at the token endpoint; see <see cref="TokenEndpointAuthMethods"/>.</summary>
    [Id(8)]
    public string TokenEndpointAuthMethod { get; init; } = TokenEndpointAuthMethods.ClientSecretBasic;

    /// <summary>Send a PKCE S256 challenge (RFC 7636). On by default (docs/design.md §5).</summary>
    [Id(9)]
    public bool UsePkce { get; init; } = true;

    /// <summary>Extra query parameters for the authorize request (e.g. <c>prompt</c>, <c>hd</c>).</summary>
    [Id(10)]
    public IReadOnlyDictionary<string, string> ExtraAuthorizeParams { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Settings only one provider type has (Authing's <c>protocol</c>, QQ's <c>unionId</c>) and the
    /// <c>oauth2</c> profile mapping (<see cref="ProfileClaimMapping.FromOptions"/>).
    /// </summary>
    [Id(11)]
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    /// <summary>Root of the provider's API for the upstream proxy; nothing outside it may be called.</summary>
    [Id(12)]
    public string? ApiBaseUrl { get; init; }

    /// <summary>What the connection chooser shows ("Sign in with ..."); null: the provider's name (<see cref="ShownName"/>).</summary>
    [Id(13)]
    public string? DisplayName { get; init; }

    /// <summary>Scopes an app may add to one login (<c>scope</c> on <c>/t/{tenant}/login</c>) beyond <see cref="Scopes"/>.</summary>
    [Id(14)]
    public IReadOnlyList<string> AllowedExtraScopes { get; init; } = [];

    /// <summary>The name a person sees: the display name, or the provider's name, or for a provider of no
    /// fixed name (any OIDC or OAuth 2.0 server) the host it signs in at.</summary>
    [System.Text.Json.Serialization.JsonIgnore] // derived, not stored
    public string ShownName => DisplayName ?? Type switch
    {
        ConnectionTypes.JAccount => "SJTU jAccount",
        ConnectionTypes.ShangCloud => "ShangCloud",
        ConnectionTypes.Qq => "QQ",
        ConnectionTypes.Authing => "Authing",
        ConnectionTypes.GitHub => "GitHub",
        ConnectionTypes.Dev => "the development IdP",
        _ => Uri.TryCreate(Issuer ?? Endpoints.Authorize, UriKind.Absolute, out var at) ? at.Host : Id,
    };

    /// <summary>Reads an option, or null when it is absent or blank.</summary>
    public string? Option(string name) =>
        Options.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
}

/// <summary>Explicit upstream endpoints of a connection. Null means "discover or default".</summary>
[GenerateSerializer, Immutable]
public sealed record ConnectionEndpoints
{
    /// <summary>Authorization endpoint (RFC 6749 §3.1).</summary>
    [Id(0)]
    public string? Authorize { get; init; }
    /// <summary>Token endpoint (RFC 6749 §3.2).</summary>
    [Id(1)]
    public string? Token { get; init; }
    /// <summary>UserInfo endpoint (OIDC Core §5.3) or the provider's profile API.</summary>
    [Id(2)]
    public string? Userinfo { get; init; }
    /// <summary>Revocation endpoint (RFC 7009).</summary>
    [Id(3)]
    public string? Revocation { get; init; }
    /// <summary>Introspection endpoint (RFC 7662).</summary>
    [Id(4)]
    public string? Introspection { get; init; }
    /// <summary>Logout / end-session endpoint (OIDC RP-Initiated Logout §2).</summary>
    [Id(5)]
    public string? Logout { get; init; }
    /// <summary>JWK Set document (RFC 7517 §5).</summary>
    [Id(6)]
    public string? Jwks { get; init; }
}

/// <summary>The connection types of docs/design.md §3.</summary>
public static class ConnectionTypes
{
    /// <summary>Any OpenID Connect provider with discovery.</summary>
    public const string Oidc = "oidc";
    /// <summary>Any OAuth 2.0 provider with explicit endpoints and a profile URL.</summary>
    public const string OAuth2 = "oauth2";
    /// <summary>The broker's built-in development IdP.</summary>
    public const string Dev = "dev";
    /// <summary>SJTU jAccount.</summary>
    public const string JAccount = "jaccount";
    /// <summary>ShangCloud (api.yearnstudio.cn).</summary>
    public const string ShangCloud = "shangcloud";
    /// <summary>Tencent QQ Connect.</summary>
    public const string Qq = "qq";
    /// <summary>An Authing application (OIDC or OAuth 2.0, by <c>options.protocol</c>).</summary>
    public const string Authing = "authing";
    /// <summary>A GitHub OAuth app or GitHub App.</summary>
    public const string GitHub = "github";
}

/// <summary>Client authentication methods at the token endpoint (RFC 6749 §2.3, RFC 7591 §2).</summary>
public static class TokenEndpointAuthMethods
{
    /// <summary>Id and secret in the form body (RFC 6749 §2.3.1, allowed but NOT RECOMMENDED).</summary>
    public const string ClientSecretPost = "client_secret_post";
    /// <summary>HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).</summary>
    public const string ClientSecretBasic = "client_secret_basic";
    /// <summary>A public client: only <c>client_id</c> in the body (RFC 6749 §3.2.1).</summary>
    public const string None = "none";

    /// <summary>Every method a connection may name.</summary>
    public static readonly IReadOnlySet<string> All =
        new HashSet<string>(StringComparer.Ordinal) { ClientSecretPost, ClientSecretBasic, None };

    /// <summary>What a connection of a type uses when it names no method: what the provider's own SDK sends.
    /// Authing's SDKs (and the apps built with them) post the secret to the token, introspection and
    /// revocation endpoints alike; everything else takes HTTP Basic, RFC 6749's recommendation.</summary>
    public static string DefaultFor(string? type) => type == ConnectionTypes.Authing ? ClientSecretPost : ClientSecretBasic;
}

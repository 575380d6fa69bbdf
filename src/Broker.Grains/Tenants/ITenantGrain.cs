using Orleans.Concurrency;
using Broker.Grains.Clients;
using Broker.Grains.Connectors;

namespace Broker.Grains.Tenants;

/// <summary>
/// A tenant: its return URLs, API key hashes, session policy and connections (secrets encrypted at
/// rest). Keyed by tenant id. A deleted tenant leaves a tombstone, so its old keys answer 401
/// rather than looking like a tenant that never was (docs/design.md §6).
/// </summary>
[Alias("tenant"), GrainInterfaceType("tenant")]
public interface ITenantGrain : IGrainWithStringKey
{
    /// <summary>Creates the tenant (or re-creates a deleted one) and returns its first API key, shown once.</summary>
    Task<CreateTenantResult> CreateAsync(string displayName, IReadOnlyList<string> returnUrls);

    [ReadOnly]
    Task<TenantStatus> GetStatusAsync();

    /// <summary>The tenant's status, its current life and, in the same turn, whether <paramref name="apiKey"/> is
    /// one of its keys (false without one): what a tenant REST call asks first, in one state read instead of two.</summary>
    [ReadOnly]
    Task<TenantAccess> GetAccessAsync(string? apiKey);

    /// <summary>The tenant, or null when it does not exist or was deleted.</summary>
    [ReadOnly]
    Task<TenantView?> GetAsync();

    /// <summary>
    /// Deletes the tenant: keys stop working at once, and its connections go to a
    /// <see cref="IRetiredTenantGrain"/> that ends and revokes the sessions of this life in the
    /// background and then forgets them. False if there was none.
    /// </summary>
    Task<bool> DeleteAsync();

    /// <summary>A new API key (older ones stay valid); null when the tenant does not exist.</summary>
    Task<NewApiKeyResult?> AddApiKeyAsync();

    /// <summary>The tenant's keys (ids and creation times, oldest first); null when the tenant does not exist.</summary>
    [ReadOnly]
    Task<IReadOnlyList<ApiKeyView>?> ListApiKeysAsync();

    /// <summary>Deletes one key: it stops working at once. False when the tenant or the key does not exist.</summary>
    Task<bool> DeleteApiKeyAsync(string keyId);

    /// <summary>True when <paramref name="apiKey"/> is one of this tenant's keys (constant-time compare of hashes).</summary>
    [ReadOnly]
    Task<bool> CheckApiKeyAsync(string apiKey);

    /// <summary>Replaces the fields the patch names and keeps the others; null when the tenant does not exist.</summary>
    Task<TenantView?> UpdateAsync(TenantPatch patch);

    /// <summary>Creates or replaces a connection; the caller has validated it. Null when the tenant does not exist.</summary>
    Task<PutOutcome?> PutConnectionAsync(ConnectionConfig connection);

    /// <summary>The connection with its secret decrypted, for the grains that call the upstream; never for a response.</summary>
    [ReadOnly]
    Task<ConnectionConfig?> GetConnectionAsync(string connectionId);

    /// <summary>A connection (secret decrypted) with the tenant's session policy, in one turn: what a
    /// login completion and every session refresh need. Null when the tenant is gone (or is no longer
    /// the life <paramref name="incarnation"/>) or the connection is.</summary>
    [ReadOnly]
    Task<ConnectionWithPolicy?> GetConnectionWithPolicyAsync(string incarnation, string connectionId);

    [ReadOnly]
    Task<IReadOnlyList<ConnectionConfig>> ListConnectionsAsync();

    Task<bool> DeleteConnectionAsync(string connectionId);

    /// <summary>The provider's logout URL for a connection (jAccount, Authing, OIDC end_session), or null
    /// when it has none. For browser logout without a session, whose id_token could serve as a hint.</summary>
    Task<Uri?> BuildLogoutUrlAsync(string connectionId, string postLogoutRedirectUri);

    /// <summary>Registers or replaces an app client of the OpenID Provider; the caller has validated it. Null when
    /// the tenant does not exist.</summary>
    Task<PutAppClientResult?> PutClientAsync(AppClient client);

    [ReadOnly]
    Task<AppClientView?> GetClientAsync(string clientId);

    [ReadOnly]
    Task<IReadOnlyList<AppClientView>?> ListClientsAsync();

    Task<bool> DeleteClientAsync(string clientId);

    /// <summary>A new secret for a confidential client; the old one stops working at once.</summary>
    Task<RotateSecretResult> RotateClientSecretAsync(string clientId);

    /// <summary>Whether <paramref name="secret"/> is the client's current secret (constant-time compare of hashes).</summary>
    [ReadOnly]
    Task<bool> CheckClientSecretAsync(string clientId, string secret);

    /// <summary>The public keys the OpenID Provider signs with (the JWKS): the current one and those it replaced
    /// less than a day ago. Makes the first key, or a new one when the current is 30 days old. Null when the
    /// tenant does not exist.</summary>
    Task<IReadOnlyList<PublicSigningKey>?> GetSigningKeysAsync();

    /// <summary>Signs <paramref name="payload"/> (RS256, with the current key's <c>kid</c>) as a compact JWT; null when
    /// the tenant is gone or is no longer the life <paramref name="incarnation"/>.</summary>
    Task<string?> SignAsync(string incarnation, string payload, string type);
}

/// <summary>A public RSA key: base64url modulus and exponent, as a JWK carries them.</summary>
[GenerateSerializer, Immutable]
public sealed record PublicSigningKey(string Kid, string Modulus, string Exponent);

/// <param name="ClientSecret">Set when this call made a secret (a new confidential client, or a public one turned
/// confidential): shown this once.</param>
[GenerateSerializer, Immutable]
public sealed record PutAppClientResult(PutOutcome Outcome, AppClientView? Client, string? ClientSecret);

[GenerateSerializer, Immutable]
public sealed record AppClientView(AppClient Client, bool HasClientSecret, DateTimeOffset CreatedAt);

public enum RotateSecretOutcome { Rotated, NotFound, PublicClient }

[GenerateSerializer, Immutable]
public sealed record RotateSecretResult(RotateSecretOutcome Outcome, string? ClientSecret = null);

public enum TenantStatus { Unknown, Active, Deleted }

/// <summary>What a PUT of a connection or an app client did.</summary>
public enum PutOutcome { Created, Replaced, LimitReached }

/// <summary>The key, shown once; null when the tenant holds <see cref="TenantLimits.ApiKeys"/> keys already.</summary>
[GenerateSerializer, Immutable]
public sealed record NewApiKeyResult(string? ApiKey);

/// <param name="Tenant">The tenant's current life; null unless it is active.</param>
[GenerateSerializer, Immutable]
public sealed record TenantAccess(TenantStatus Status, bool KeyIsValid, TenantRef? Tenant);

[GenerateSerializer, Immutable]
public sealed record CreateTenantResult(bool Created, string? ApiKey);

[GenerateSerializer, Immutable]
public sealed record ApiKeyView(string Id, DateTimeOffset CreatedAt);

[GenerateSerializer, Immutable]
public sealed record ConnectionWithPolicy(ConnectionConfig Connection, SessionPolicy Policy);

[GenerateSerializer, Immutable]
public sealed record SessionPolicy(int RefreshLeadSeconds = 60, int LifetimeSeconds = 86_400);

[GenerateSerializer, Immutable]
public sealed record TenantView(TenantRef Ref, string DisplayName, IReadOnlyList<string> ReturnUrls, SessionPolicy SessionPolicy, DateTimeOffset CreatedAt)
{
    public string Id => Ref.Id;
}

/// <summary>A PATCH: null members are left as they are (docs/design.md §6).</summary>
[GenerateSerializer, Immutable]
public sealed record TenantPatch(string? DisplayName, IReadOnlyList<string>? ReturnUrls, int? RefreshLeadSeconds, int? LifetimeSeconds);

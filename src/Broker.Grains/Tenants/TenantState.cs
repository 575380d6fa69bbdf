using Broker.Grains.Connectors;

namespace Broker.Grains.Tenants;

/// <summary>What a tenant grain persists. Names are persisted JSON: chosen once, kept.</summary>
public sealed class TenantState
{
    public TenantStatus Status { get; set; }

    /// <summary>Drawn at creation; a tenant created again under the same id draws a new one (<see cref="TenantRef"/>).</summary>
    public string Incarnation { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public List<string> ReturnUrls { get; set; } = [];
    public List<StoredApiKey> ApiKeys { get; set; } = [];
    public int RefreshLeadSeconds { get; set; } = 60;
    public int LifetimeSeconds { get; set; } = 86_400;
    public Dictionary<string, StoredConnection> Connections { get; set; } = [];
    public Dictionary<string, StoredAppClient> Clients { get; set; } = [];

    /// <summary>The OpenID Provider's signing keys, newest last.</summary>
    public List<StoredSigningKey> SigningKeys { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An RS256 signing key of the tenant's OpenID Provider: the private key encrypted like every secret
/// (PKCS#8, Data Protection), the public modulus and exponent in the clear for the JWKS.</summary>
public sealed class StoredSigningKey
{
    public required string Kid { get; set; }
    public required string ProtectedPrivateKey { get; set; }
    public required string Modulus { get; set; }
    public required string Exponent { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An app client as stored: its registration and the SHA-256 hash of its secret (none for a public client).</summary>
public sealed class StoredAppClient
{
    public required Clients.AppClient Client { get; set; }
    public string? SecretHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An API key as stored: its public id and the SHA-256 hash of the whole key, never the key.</summary>
public sealed class StoredApiKey
{
    public required string Id { get; set; }
    public required string Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A connection as stored: the config without its secret, and the secret encrypted.</summary>
[GenerateSerializer]
public sealed class StoredConnection
{
    [Id(0)] public required ConnectionConfig Config { get; set; }
    [Id(1)] public string? ProtectedClientSecret { get; set; }
}

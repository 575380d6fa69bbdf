using System.Collections.Concurrent;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.Oidc;

/// <summary>
/// Discovery documents and JWK Sets, cached per URL and shared by every connection of a silo.
/// Keys are re-read when a token names a <c>kid</c> the cached set lacks (the provider rotated),
/// at most once per <see cref="ConnectorOptions.JwksRefetchInterval"/>, so tokens with made-up
/// kids cannot turn the broker into a load generator against the provider.
/// </summary>
public sealed class OidcMetadataCache
{
    private readonly UpstreamHttp http;
    private readonly TimeProvider clock;
    private readonly ConnectorOptions options;
    private readonly ConcurrentDictionary<string, (OidcMetadata Metadata, DateTimeOffset FetchedAt)> discovery = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (IReadOnlyList<JsonWebKey> Keys, DateTimeOffset FetchedAt)> keySets = new(StringComparer.Ordinal);

    /// <summary>Creates the cache.</summary>
    public OidcMetadataCache(UpstreamHttp http, TimeProvider clock, ConnectorOptions options)
    {
        this.http = http;
        this.clock = clock;
        this.options = options;
    }

    /// <summary>
    /// The issuer's discovery document. Its <c>issuer</c> must equal the configured one exactly
    /// (OIDC Discovery §4.3), or the document could be another provider's.
    /// </summary>
    public async Task<OidcMetadata> GetDiscoveryAsync(string issuer, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (discovery.TryGetValue(issuer, out var cached) && now - cached.FetchedAt < options.DiscoveryLifetime)
        {
            return cached.Metadata;
        }

        // Appended after any issuer path (OIDC Discovery §4.1): https://host/tenant -> https://host/tenant/.well-known/...
        var url = issuer.TrimEnd('/') + "/.well-known/openid-configuration";
        var json = await GetJsonAsync(url, "discovery document", cancellationToken);
        var metadata = OidcMetadata.Parse(json)
            ?? throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, "The provider's discovery document has no issuer.");
        if (!string.Equals(metadata.Issuer, issuer, StringComparison.Ordinal))
        {
            throw new ConnectorException(ConnectorErrorKind.Misconfigured,
                "The discovery document's issuer differs from the configured issuer (OIDC Discovery §4.3); check for a trailing slash.");
        }

        discovery[issuer] = (metadata, now);
        return metadata;
    }

    /// <summary>
    /// The keys that may verify a token with this <paramref name="alg"/> and <paramref name="kid"/>.
    /// An empty answer after the allowed refetch means no key fits.
    /// </summary>
    public async Task<IReadOnlyList<JsonWebKey>> GetKeysAsync(string jwksUri, string alg, string? kid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var haveSet = keySets.TryGetValue(jwksUri, out var cached);
        if (!haveSet)
        {
            cached = await FetchKeysAsync(jwksUri, now, cancellationToken);
        }

        var candidates = Select(cached.Keys, alg, kid);
        if (candidates.Count == 0 && haveSet && now - cached.FetchedAt >= options.JwksRefetchInterval)
        {
            cached = await FetchKeysAsync(jwksUri, now, cancellationToken);
            candidates = Select(cached.Keys, alg, kid);
        }

        return candidates;
    }

    private async Task<(IReadOnlyList<JsonWebKey>, DateTimeOffset)> FetchKeysAsync(string jwksUri, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entry = (JsonWebKey.ParseSet(await GetJsonAsync(jwksUri, "JWKS document", cancellationToken)), now);
        keySets[jwksUri] = entry;
        return entry;
    }

    // A token without a kid may be verified by any key that fits its alg (as go-oidc does).
    private static List<JsonWebKey> Select(IReadOnlyList<JsonWebKey> keys, string alg, string? kid) =>
        keys.Where(k => (kid is null || k.KeyId == kid) && k.Fits(alg)).ToList();

    private async Task<System.Text.Json.Nodes.JsonObject> GetJsonAsync(string url, string what, CancellationToken cancellationToken)
    {
        var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), RetrySafety.Idempotent, what, cancellationToken);
        if (!response.IsSuccess)
        {
            throw (int)response.StatusCode >= 500 || (int)response.StatusCode == 429
                ? new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, $"The provider's {what} answered HTTP {(int)response.StatusCode}.")
                : new ConnectorException(ConnectorErrorKind.Misconfigured, $"The provider's {what} answered HTTP {(int)response.StatusCode}.");
        }

        return OAuth2Responses.ParseObject(response.Body)
            ?? throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, $"The provider's {what} is not a JSON object.");
    }
}

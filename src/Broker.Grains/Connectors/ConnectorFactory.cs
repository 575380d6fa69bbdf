using Broker.Grains.Connectors.Authing;
using Broker.Grains.Connectors.Dev;
using Broker.Grains.Connectors.GitHub;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Connectors.JAccount;
using Broker.Grains.Connectors.OAuth2;
using Broker.Grains.Connectors.Oidc;
using Broker.Grains.Connectors.Qq;
using Broker.Grains.Connectors.ShangCloud;

namespace Broker.Grains.Connectors;

/// <summary>Settings shared by every connector.</summary>
public sealed record ConnectorOptions
{
    /// <summary>Timeouts and retries of outbound calls.</summary>
    public OutboundHttpOptions Http { get; init; } = new();

    /// <summary>Leeway for id_token <c>exp</c>/<c>nbf</c>/<c>iat</c> (RFC 7519 §4.1.4). Default 2 min.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a discovery document is reused before it is read again. Default 1 h.</summary>
    public TimeSpan DiscoveryLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The shortest time between two JWKS fetches caused by an unknown <c>kid</c>. Default 30 s.</summary>
    public TimeSpan JwksRefetchInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Root of the built-in development IdP, <c>{PublicBaseUrl}/dev-idp/</c>; null when it is not served.</summary>
    public Uri? DevIdpBaseUrl { get; init; }

    /// <summary>Whether plain-http provider URLs are accepted (<c>Broker__AllowHttpUpstreams</c>, docs/design.md §6).</summary>
    public bool AllowHttpUpstreams { get; init; }
}

/// <summary>What connectors share: the outbound HTTP sender, the clock, the options and the OIDC caches.</summary>
public sealed class ConnectorContext
{
    /// <summary>Creates the shared context.</summary>
    public ConnectorContext(Func<HttpClient> httpClient, TimeProvider clock, ConnectorOptions options)
    {
        Clock = clock;
        Options = options;
        Http = new UpstreamHttp(httpClient, options.Http);
        Metadata = new OidcMetadataCache(Http, clock, options);
    }

    /// <summary>The resilient outbound sender.</summary>
    public UpstreamHttp Http { get; }

    /// <summary>The clock for token lifetimes and id_token validation.</summary>
    public TimeProvider Clock { get; }

    /// <summary>The options in force.</summary>
    public ConnectorOptions Options { get; }

    /// <summary>Discovery documents and key sets, shared across connections of the same provider.</summary>
    public OidcMetadataCache Metadata { get; }
}

/// <summary>
/// Maps a <see cref="ConnectionConfig"/> to its connector by <see cref="ConnectionConfig.Type"/>.
/// A new provider type plugs in with one <see cref="Register"/> line. Connectors are cheap,
/// stateless objects; the caches they share live in the <see cref="ConnectorContext"/>.
/// </summary>
public sealed class ConnectorFactory
{
    private readonly Dictionary<string, Func<ConnectionConfig, ConnectorContext, IConnector>> types = new(StringComparer.Ordinal);

    /// <summary>Creates the factory with the built-in types (<c>oidc</c>, <c>oauth2</c>, <c>dev</c> and the provider types).</summary>
    /// <param name="httpClients">Source of the named client <see cref="OutboundHttpOptions.HttpClientName"/>.</param>
    /// <param name="clock">The clock for token lifetimes and id_token validation.</param>
    /// <param name="options">Shared connector settings.</param>
    public ConnectorFactory(IHttpClientFactory httpClients, TimeProvider clock, ConnectorOptions options)
    {
        Context = new ConnectorContext(() => httpClients.CreateClient(OutboundHttpOptions.HttpClientName), clock, options);
        Register(ConnectionTypes.Oidc, (config, context) => new OidcConnector(config, context));
        Register(ConnectionTypes.OAuth2, (config, context) => new OAuth2Connector(config, context));
        Register(ConnectionTypes.Dev, DevConnector.Create);
        Register(ConnectionTypes.JAccount, (config, context) => new JAccountConnector(config, context));
        Register(ConnectionTypes.ShangCloud, (config, context) => new ShangCloudConnector(config, context));
        Register(ConnectionTypes.Qq, (config, context) => new QqConnector(config, context));
        Register(ConnectionTypes.Authing, (config, context) => new AuthingConnector(config, context));
        Register(ConnectionTypes.GitHub, (config, context) => new GitHubConnector(config, context));
    }

    /// <summary>The shared context handed to every connector.</summary>
    public ConnectorContext Context { get; }

    /// <summary>The registered types.</summary>
    public IReadOnlyCollection<string> Types => types.Keys;

    /// <summary>Adds or replaces a connection type.</summary>
    public void Register(string type, Func<ConnectionConfig, ConnectorContext, IConnector> create) => types[type] = create;

    /// <summary>Checks a configuration against the registered types and the options' http rule.</summary>
    public IReadOnlyList<ConfigError> Validate(ConnectionConfig config) =>
        ConnectionConfigValidator.Validate(config, types.Keys, Context.Options.AllowHttpUpstreams);

    /// <summary>The connector for a configuration; an invalid one throws <see cref="ConnectorErrorKind.Misconfigured"/>.</summary>
    public IConnector Create(ConnectionConfig config)
    {
        var errors = Validate(config);
        if (errors.Count > 0)
        {
            throw new ConnectorException(ConnectorErrorKind.Misconfigured,
                $"Connection '{config.Id}' is invalid: {string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}"))}");
        }

        return types[config.Type](config, Context);
    }
}

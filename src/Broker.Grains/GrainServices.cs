using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Runtime;
using Broker.Grains.Logins;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.Grains;

public static class GrainServices
{
    /// <summary>Registers the broker's grains on the runtime, and what they need: connectors, secret
    /// protection. The host adds storage and Data Protection (with a key ring every silo shares).</summary>
    public static IServiceCollection AddBrokerGrains(this IServiceCollection services, BrokerGrainOptions options, ConnectorOptions connectorOptions) =>
        services.AddBrokerGrainDependencies(options, connectorOptions).AddGrainRuntime(RegisterGrains);

    /// <summary>What the grains need besides the runtime (tests host the runtime themselves).</summary>
    public static IServiceCollection AddBrokerGrainDependencies(this IServiceCollection services, BrokerGrainOptions options, ConnectorOptions connectorOptions)
    {
        services.AddSingleton(options);
        services.AddSingleton(connectorOptions);
        // Never follow redirects upstream: a redirect could carry a token (QQ's sit in the query) or a
        // proxied call to a host outside the connection's API base.
        services.AddHttpClient(OutboundHttpOptions.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddSingleton<ConnectorFactory>();
        services.AddSingleton<SecretProtector>();
        services.AddSingleton<UpstreamProxy>();
        // The host registers PostgreSQL's first where it runs on PostgreSQL.
        services.TryAddSingleton<ISessionIndex, MemorySessionIndex>();
        return services;
    }

    // The names are persisted in state and reminder rows: never rename one.
    public static void RegisterGrains(GrainRegistry grains)
    {
        grains.Add<ITenantGrain, TenantGrain>("tenant");
        grains.Add<IPendingLoginGrain, PendingLoginGrain>("login");
        grains.Add<ISessionGrain, SessionGrain>("session");
        grains.Add<IHandoffCodeGrain, HandoffCodeGrain>("handoff");
        grains.Add<IUserGrain, UserGrain>("user");
        grains.Add<IRetiredTenantGrain, RetiredTenantGrain>("retired-tenant");
    }
}

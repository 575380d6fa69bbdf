using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Events;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Hosting;
using Orleans.Serialization;

namespace Broker.Grains;

public static class GrainServices
{
    /// <summary>What the grains need in a silo: connectors, secret protection, the session index, and the
    /// serialization of the provider's raw profile (a JsonObject) in grain calls. The host adds Orleans
    /// itself, its storage and Data Protection (with a key ring every silo shares).</summary>
    public static IServiceCollection AddBrokerGrains(this IServiceCollection services, BrokerGrainOptions options, ConnectorOptions connectorOptions)
    {
        services.AddSingleton(options);
        services.AddSingleton(connectorOptions);
        services.TryAddSingleton(TimeProvider.System);
        // Never follow redirects upstream: a redirect could carry a token (QQ's sit in the query) or a
        // proxied call to a host outside the connection's API base.
        services.AddHttpClient(OutboundHttpOptions.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddSingleton<ConnectorFactory>();
        services.AddSingleton<SecretProtector>();
        services.AddSingleton<UpstreamProxy>();
        services.AddSingleton<HandoffCodes>();
        services.AddSingleton<RefreshSlots>();
        services.AddSingleton<ConnectionChecker>();
        // The host registers PostgreSQL's first where it runs on PostgreSQL.
        services.TryAddSingleton<ISessionIndex, MemorySessionIndex>();
        services.TryAddSingleton<ITenantDirectory, MemoryTenantDirectory>();
        services.TryAddSingleton<ITenantEventLog, MemoryTenantEventLog>();
        services.TryAddSingleton<IUserDirectory, MemoryUserDirectory>();
        return services.AddBrokerSerialization();
    }

    /// <summary>What a silo or a client needs to carry the grains' arguments and results: the provider's
    /// raw profile is a JsonObject, which Orleans' own codecs do not know.</summary>
    public static IServiceCollection AddBrokerSerialization(this IServiceCollection services) =>
        services.AddSerializer(serializer => serializer.AddJsonSerializer(isSupported: type => typeof(JsonNode).IsAssignableFrom(type)));

    /// <summary>
    /// What every silo that hosts the grains sets, whatever its storage: grain state is JSON with the
    /// project's camelCase names (never .NET type names; the names are the persisted contract), and
    /// reminders may be as short as the wake-ups need (<see cref="BrokerGrainOptions.ReminderPeriod"/>).
    /// </summary>
    public static ISiloBuilder UseBrokerGrainDefaults(this ISiloBuilder silo)
    {
        silo.UseSystemTextJsonGrainStorageSerializer();
        silo.Services.Configure<SystemTextJsonGrainStorageSerializerOptions>(o =>
        {
            o.JsonSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            o.JsonSerializerOptions.PropertyNameCaseInsensitive = true;
        });
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        return silo;
    }
}

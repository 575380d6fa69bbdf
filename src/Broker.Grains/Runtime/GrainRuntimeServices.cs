using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Broker.Grains.Runtime;

public static class GrainRuntimeServices
{
    /// <summary>Adds the runtime: registry, catalog, factory, reminder delivery and idle collection.
    /// Storage (<see cref="IGrainStateStore"/>, <see cref="IReminderTable"/>) is registered by the host;
    /// <paramref name="grains"/> registers the grain types.</summary>
    public static IServiceCollection AddGrainRuntime(this IServiceCollection services, Action<GrainRegistry> grains)
    {
        var registry = new GrainRegistry();
        grains(registry);
        services.AddSingleton(registry);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(SiloIdentity.CreateUnique());
        services.TryAddSingleton(new ReminderOptions());
        services.TryAddSingleton(new ActivationOptions());
        services.AddSingleton<Catalog>();
        services.AddSingleton<GrainFactory>();
        services.AddSingleton<ReminderService>();
        services.AddHostedService(sp => sp.GetRequiredService<ReminderService>());
        services.AddHostedService<ActivationCollector>();
        return services;
    }
}

using Broker.Grains.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Testing.Runtime;

/// <summary>
/// One grain runtime instance ("a silo") inside the test process. Several share one store and one
/// fake clock to play a cluster; each has its own activations and silo id. Reminders are polled by
/// the test (<see cref="ReminderService.PollOnceAsync"/>), never by a background loop.
/// </summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public TestSilo(IGrainStateStore states, IReminderTable reminders, TimeProvider time,
        Action<IServiceCollection>? configure = null, ReminderOptions? reminderOptions = null, Action<GrainRegistry>? grains = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(states);
        services.AddSingleton(reminders);
        services.AddSingleton(time);
        services.AddSingleton(reminderOptions ?? new ReminderOptions());
        services.AddSingleton(SiloIdentity.CreateUnique());
        configure?.Invoke(services);
        services.AddGrainRuntime(grains ?? TestGrains.Register);
        _services = services.BuildServiceProvider();
    }

    public string Id => _services.GetRequiredService<SiloIdentity>().Id;

    public GrainFactory Grains => _services.GetRequiredService<GrainFactory>();

    public Catalog Catalog => _services.GetRequiredService<Catalog>();

    public ReminderService Reminders => _services.GetRequiredService<ReminderService>();

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>Polls until a poll claims nothing; returns the number of rows claimed in all.</summary>
    public async Task<int> DrainRemindersAsync()
    {
        var total = 0;
        for (int claimed; (claimed = await Reminders.PollOnceAsync()) > 0;)
            total += claimed;
        return total;
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

using Microsoft.Extensions.DependencyInjection;

namespace Broker.Grains.Runtime;

/// <summary>What a grain knows about itself: its identity, its state, its reminders and the factory
/// for calling other grains. Grains take it as a constructor parameter (Orleans' IGrainContext).</summary>
public sealed class GrainContext
{
    private readonly IServiceProvider _services;
    private IPersistentState? _state;

    internal GrainContext(GrainId id, IServiceProvider services)
    {
        Id = id;
        _services = services;
    }

    public GrainId Id { get; }

    public string Key => Id.Key;

    public GrainFactory GrainFactory => _services.GetRequiredService<GrainFactory>();

    internal IPersistentState? State => _state;

    /// <summary>The grain's persistent state. A grain has one; asking twice returns the same object.</summary>
    public PersistentState<TState> GetState<TState>() where TState : class, new()
    {
        _state ??= new PersistentState<TState>(Id, _services.GetRequiredService<IGrainStateStore>());
        return (PersistentState<TState>)_state;
    }

    /// <summary>Creates or moves the reminder <paramref name="name"/> of this grain. Delivery goes to
    /// <see cref="IRemindable.ReceiveReminderAsync"/> on whichever silo claims it.</summary>
    public Task RegisterOrUpdateReminderAsync(string name, DateTimeOffset dueAt, TimeSpan? period = null, CancellationToken cancellationToken = default)
    {
        if (period is { } p && p <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(period), "A reminder's period must be positive.");
        return _services.GetRequiredService<IReminderTable>().UpsertAsync(Id, name, dueAt, period, cancellationToken);
    }

    public Task UnregisterReminderAsync(string name, CancellationToken cancellationToken = default) =>
        _services.GetRequiredService<IReminderTable>().DeleteAsync(Id, name, cancellationToken);
}

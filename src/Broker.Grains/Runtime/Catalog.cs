using System.Collections.Concurrent;

namespace Broker.Grains.Runtime;

/// <summary>The activations living in this silo, keyed by grain id. Activations are created on first
/// call and dropped when idle, so memory follows the working set, not the number of grains stored.</summary>
public sealed class Catalog(IServiceProvider services, GrainRegistry registry, TimeProvider time)
{
    private readonly ConcurrentDictionary<GrainId, GrainActivation> _activations = new();

    public int ActivationCount => _activations.Count;

    /// <summary>Runs <paramref name="call"/> on the grain's activation as one turn.</summary>
    public async Task<T> InvokeAsync<T>(GrainId id, Func<object, Task<T>> call)
    {
        while (true)
        {
            var activation = _activations.GetOrAdd(id, Activate);
            var (ran, result) = await activation.TryRunTurnAsync(call);
            if (ran)
                return result;
            // Dropped by the collector while we waited for its turn lock: take a fresh one.
            _activations.TryRemove(new KeyValuePair<GrainId, GrainActivation>(id, activation));
        }
    }

    /// <summary>Drops activations idle for at least <paramref name="idleFor"/>; returns how many.</summary>
    public int CollectIdle(TimeSpan idleFor)
    {
        var dropped = 0;
        foreach (var (id, activation) in _activations)
        {
            if (activation.IdleFor < idleFor || !activation.TryDeactivate())
                continue;
            _activations.TryRemove(new KeyValuePair<GrainId, GrainActivation>(id, activation));
            dropped++;
        }
        return dropped;
    }

    private GrainActivation Activate(GrainId id)
    {
        var type = registry.ByName(id.Type) ?? throw new InvalidOperationException($"No grain type '{id.Type}' is registered.");
        return new GrainActivation(id, type, services, time);
    }
}

namespace Broker.Grains.Sessions;

/// <summary>
/// How many refreshes one silo runs at once (<see cref="BrokerGrainOptions.MaxConcurrentRefreshes"/>). When
/// many sessions come due together (a burst of logins an hour earlier, a dead silo's sessions arriving)
/// the rest wait their turn, first come first served. Unbounded, every due session held a database
/// connection and a provider call at once: the pool ran dry, and writes of new tokens failed after the
/// provider had already spent the old refresh tokens.
/// </summary>
public sealed class RefreshSlots(BrokerGrainOptions options)
{
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrentRefreshes);
    private int _waiting;

    /// <summary>Refreshes waiting for a slot now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public async Task<Slot> TakeAsync()
    {
        Interlocked.Increment(ref _waiting);
        BrokerMetrics.RefreshesWaiting.Add(1);
        try
        {
            await _slots.WaitAsync();
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            BrokerMetrics.RefreshesWaiting.Add(-1);
        }
        return new Slot(_slots);
    }

    public readonly struct Slot(SemaphoreSlim slots) : IDisposable
    {
        public void Dispose() => slots.Release();
    }
}

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

    /// <summary>A slot, or null when none came free within <see cref="BrokerGrainOptions.RefreshSlotWait"/>.
    /// The wait is bounded because it holds a grain turn: a reminder tick that waited longer than Orleans'
    /// 30-second response timeout was reported as undeliverable (three warnings and an error each) and its
    /// grain's other calls queued behind it. A session that gets no slot sets its timer and asks again.</summary>
    public async Task<Slot?> TakeAsync(TimeProvider time)
    {
        Interlocked.Increment(ref _waiting);
        BrokerMetrics.RefreshesWaiting.Add(1);
        try
        {
            using var giveUp = new CancellationTokenSource(options.RefreshSlotWait, time);
            await _slots.WaitAsync(giveUp.Token);
            return new Slot(_slots);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            BrokerMetrics.RefreshesWaiting.Add(-1);
        }
    }

    public readonly struct Slot(SemaphoreSlim slots) : IDisposable
    {
        public void Dispose() => slots.Release();
    }
}

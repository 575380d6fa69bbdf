namespace Broker.Grains.Runtime;

/// <summary>One live instance of a grain in this silo. Its turn lock is what keeps calls to the same
/// key from interleaving (DESIGN.md §2, semantics 1).</summary>
internal sealed class GrainActivation(GrainId id, GrainType type, IServiceProvider services, TimeProvider time)
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private GrainContext? _context;
    private object? _instance;
    private long _lastUsed = time.GetTimestamp();

    public GrainId Id { get; } = id;

    /// <summary>Set under the turn lock when the collector drops this activation; a caller that was
    /// waiting for the lock sees it and starts a fresh activation instead.</summary>
    public bool IsDeactivated { get; private set; }

    public TimeSpan IdleFor => time.GetElapsedTime(Volatile.Read(ref _lastUsed));

    /// <summary>Runs <paramref name="call"/> as one turn. Returns (false, default) without running it if
    /// this activation was dropped while the caller waited.</summary>
    public async Task<(bool Ran, T Result)> TryRunTurnAsync<T>(Func<object, Task<T>> call)
    {
        await _turn.WaitAsync();
        try
        {
            if (IsDeactivated)
                return (false, default!);
            if (_instance is null)
            {
                _context = new GrainContext(Id, services);
                _instance = type.Create(services, _context);
            }
            if (_context!.State is { } state)
                await state.ReadStateAsync(CancellationToken.None);
            return (true, await call(_instance));
        }
        finally
        {
            Volatile.Write(ref _lastUsed, time.GetTimestamp());
            _turn.Release();
        }
    }

    /// <summary>Marks the activation dropped if no turn is running; false if it is busy.</summary>
    public bool TryDeactivate()
    {
        if (!_turn.Wait(0))
            return false;
        IsDeactivated = true;
        _instance = null;
        _context = null;
        _turn.Release();
        return true;
    }
}

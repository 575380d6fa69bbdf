using BenchmarkDotNet.Attributes;
using Broker.Grains.Runtime;
using Broker.Testing;
using Broker.Testing.Runtime;

namespace Broker.Bench;

/// <summary>What a grain call costs on the Memory store: the turn lock, the state read every turn
/// does, and the conditional write.</summary>
[MemoryDiagnoser]
public class GrainTurnBenchmarks
{
    private TestSilo _silo = null!;
    private ICounterGrain _hot = null!;
    private string[] _keys = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _silo = new TestSilo(new MemoryGrainStateStore(), new MemoryReminderTable(), new ManualTimeProvider());
        _hot = _silo.Grains.GetGrain<ICounterGrain>("hot");
        _keys = Enumerable.Range(0, 1_000).Select(i => $"k{i}").ToArray();
        foreach (var key in _keys)
            await _silo.Grains.GetGrain<ICounterGrain>(key).IncrementAsync();
    }

    [GlobalCleanup]
    public ValueTask CleanupAsync() => _silo.DisposeAsync();

    /// <summary>A read-only call: turn, state read, no write.</summary>
    [Benchmark(Baseline = true)]
    public Task<int> ReadTurn() => _hot.GetAsync();

    /// <summary>A call that writes its state.</summary>
    [Benchmark]
    public Task<int> WriteTurn() => _hot.IncrementAsync();

    /// <summary>1,000 writing calls on 1,000 keys at once: turns on different keys run in parallel.</summary>
    [Benchmark(OperationsPerInvoke = 1_000)]
    public Task ParallelWriteTurns() =>
        Task.WhenAll(_keys.Select(k => _silo.Grains.GetGrain<ICounterGrain>(k).IncrementAsync()));
}

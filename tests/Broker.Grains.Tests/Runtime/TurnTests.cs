using Broker.Grains.Runtime;
using Broker.Testing;
using Broker.Testing.Runtime;

namespace Broker.Grains.Tests.Runtime;

public sealed class TurnTests : IAsyncLifetime
{
    private readonly TestSilo _silo = new(new MemoryGrainStateStore(), new MemoryReminderTable(), new ManualTimeProvider());

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    [Fact]
    public async Task Calls_to_one_key_never_interleave()
    {
        var grain = _silo.Grains.GetGrain<ITurnProbeGrain>("one");
        var calls = Enumerable.Range(0, 50).Select(_ => Task.Run(() => grain.EnterAsync(async () =>
        {
            await Task.Yield();
            await Task.Delay(1);
        })));

        var concurrency = await Task.WhenAll(calls);

        Assert.All(concurrency, c => Assert.Equal(1, c));
    }

    [Fact]
    public async Task Calls_to_different_keys_run_at_the_same_time()
    {
        // Each call waits inside its turn until both are inside: serialising them would time out.
        var gate = new RaceGate(2);
        var a = _silo.Grains.GetGrain<ITurnProbeGrain>("a").EnterAsync(gate.ArriveAndWaitAsync);
        var b = _silo.Grains.GetGrain<ITurnProbeGrain>("b").EnterAsync(gate.ArriveAndWaitAsync);

        var concurrency = await Task.WhenAll(a, b);
        Assert.Equal(new[] { 1, 1 }, concurrency);
    }

    [Fact]
    public async Task A_grain_exception_reaches_the_caller_unwrapped_and_frees_the_turn()
    {
        var grain = _silo.Grains.GetGrain<ICounterGrain>("failing");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(grain.FailAsync);

        Assert.Equal("grain failed on purpose", error.Message);
        Assert.Equal(1, await grain.IncrementAsync());
    }

    [Fact]
    public async Task Each_turn_starts_from_what_storage_holds()
    {
        var grain = _silo.Grains.GetGrain<ICounterGrain>("fresh");
        await grain.IncrementAsync();
        var store = _silo.Get<IGrainStateStore>();
        var id = new GrainId("test-counter", "fresh");
        var stored = await store.ReadAsync(id);
        await store.WriteAsync(id, """{"count":41}""", stored!.Etag); // as another silo would

        Assert.Equal(42, await grain.IncrementAsync());
    }

    [Fact]
    public void Grain_interfaces_may_only_hold_task_returning_methods()
    {
        var registry = new GrainRegistry();

        var error = Assert.Throws<ArgumentException>(() => registry.Add<ISynchronousGrain, SynchronousGrain>("sync"));

        Assert.Contains("Count", error.Message);
    }

    [Fact]
    public void An_unregistered_interface_is_a_clear_error()
    {
        var error = Assert.Throws<InvalidOperationException>(() => _silo.Grains.GetGrain<ISynchronousGrain>("x"));
        Assert.Contains(nameof(ISynchronousGrain), error.Message);
    }

    public interface ISynchronousGrain
    {
        int Count();
    }

    public sealed class SynchronousGrain : ISynchronousGrain
    {
        public int Count() => 0;
    }
}

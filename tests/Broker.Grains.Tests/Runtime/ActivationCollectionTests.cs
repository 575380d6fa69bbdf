using Broker.Grains.Runtime;
using Broker.Testing;
using Broker.Testing.Runtime;

namespace Broker.Grains.Tests.Runtime;

public sealed class ActivationCollectionTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new();
    private readonly TestSilo _silo;

    public ActivationCollectionTests() =>
        _silo = new TestSilo(new MemoryGrainStateStore(), new MemoryReminderTable(), _clock);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _silo.DisposeAsync().AsTask();

    [Fact]
    public async Task Idle_activations_are_dropped_and_their_state_stays_in_storage()
    {
        for (var i = 0; i < 5_000; i++)
            await _silo.Grains.GetGrain<ICounterGrain>($"g{i}").IncrementAsync();
        Assert.Equal(5_000, _silo.Catalog.ActivationCount);

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, _silo.Catalog.CollectIdle(TimeSpan.FromMinutes(2)));
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(5_000, _silo.Catalog.CollectIdle(TimeSpan.FromMinutes(2)));

        Assert.Equal(0, _silo.Catalog.ActivationCount);
        Assert.Equal(2, await _silo.Grains.GetGrain<ICounterGrain>("g7").IncrementAsync());
        Assert.Equal(1, _silo.Catalog.ActivationCount);
    }

    [Fact]
    public async Task A_busy_activation_is_not_dropped_and_a_caller_racing_the_collector_still_gets_its_turn()
    {
        var grain = _silo.Grains.GetGrain<ITurnProbeGrain>("busy");
        var inside = new TaskCompletionSource();
        var leave = new TaskCompletionSource();
        var busy = grain.EnterAsync(async () =>
        {
            inside.SetResult();
            await leave.Task;
        });
        await inside.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(0, _silo.Catalog.CollectIdle(TimeSpan.FromMinutes(2)));
        leave.SetResult();
        Assert.Equal(1, await busy);

        _clock.Advance(TimeSpan.FromHours(1));
        var collect = Task.Run(() => _silo.Catalog.CollectIdle(TimeSpan.FromMinutes(2)));
        var calls = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => grain.EnterAsync(() => Task.CompletedTask)));
        await collect;
        Assert.All(calls, c => Assert.Equal(1, c));
    }

    [Fact]
    public void The_next_tick_of_a_periodic_reminder_skips_missed_ones()
    {
        var due = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var entry = new ReminderEntry(new GrainId("t", "k"), "r", due, TimeSpan.FromSeconds(10), 1);

        Assert.Equal(due.AddSeconds(10), ReminderService.NextDue(entry, due));
        Assert.Equal(due.AddSeconds(10), ReminderService.NextDue(entry, due.AddSeconds(9.9)));
        Assert.Equal(due.AddSeconds(20), ReminderService.NextDue(entry, due.AddSeconds(10)));
        Assert.Equal(due.AddSeconds(40), ReminderService.NextDue(entry, due.AddSeconds(35)));
        Assert.Null(ReminderService.NextDue(entry with { Period = null }, due));
    }
}

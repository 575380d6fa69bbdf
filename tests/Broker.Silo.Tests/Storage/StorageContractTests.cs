using Broker.Grains.Runtime;
using Broker.Testing;
using Broker.Testing.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Silo.Tests.Storage;

/// <summary>
/// The contract every storage provider keeps (DESIGN.md §2, semantics 2–4), run against each one.
/// "Silos" here are runtime instances in this process that share one store and one fake clock.
/// </summary>
public abstract class StorageContractTests : IAsyncLifetime
{
    private readonly List<TestSilo> _silos = [];

    protected ManualTimeProvider Clock { get; } = new();

    protected ReminderLog Log { get; } = new();

    protected IGrainStateStore States { get; private set; } = null!;

    protected IReminderTable Reminders { get; private set; } = null!;

    protected abstract Task<(IGrainStateStore, IReminderTable)> CreateStoresAsync();

    public async Task InitializeAsync() => (States, Reminders) = await CreateStoresAsync();

    public virtual async Task DisposeAsync()
    {
        foreach (var silo in _silos)
            await silo.DisposeAsync();
    }

    protected TestSilo StartSilo(ReminderOptions? options = null)
    {
        var silo = new TestSilo(States, Reminders, Clock, s => s.AddSingleton(Log), options);
        _silos.Add(silo);
        return silo;
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_is_a_conflict_and_changes_nothing()
    {
        var grain = new GrainId("test-counter", Guid.NewGuid().ToString());
        Assert.Null(await States.ReadAsync(grain));

        var first = await States.WriteAsync(grain, """{"count":1}""", expectedEtag: null);
        await Assert.ThrowsAsync<StateConflictException>(() => States.WriteAsync(grain, """{"count":9}""", expectedEtag: null));
        var second = await States.WriteAsync(grain, """{"count":2}""", first);
        Assert.NotEqual(first, second);
        await Assert.ThrowsAsync<StateConflictException>(() => States.WriteAsync(grain, """{"count":9}""", first));
        await Assert.ThrowsAsync<StateConflictException>(() => States.DeleteAsync(grain, first));

        var stored = await States.ReadAsync(grain);
        Assert.Equal(second, stored!.Etag);
        Assert.Contains("2", stored.Json);

        await States.DeleteAsync(grain, second);
        Assert.Null(await States.ReadAsync(grain));
        await Assert.ThrowsAsync<StateConflictException>(() => States.DeleteAsync(grain, second));
    }

    [Fact]
    public async Task Two_silos_racing_on_one_key_have_exactly_one_winner()
    {
        var a = StartSilo();
        var b = StartSilo();
        var key = Guid.NewGuid().ToString();
        await a.Grains.GetGrain<ICounterGrain>(key).IncrementAsync(); // both start from a stored version

        var gate = new RaceGate(2);
        var results = await Task.WhenAll(
            Outcome(a.Grains.GetGrain<ICounterGrain>(key).SetLabelAfterGateAsync("a", gate)),
            Outcome(b.Grains.GetGrain<ICounterGrain>(key).SetLabelAfterGateAsync("b", gate)));

        Assert.Single(results, r => r is null);
        Assert.Single(results, r => r is StateConflictException);
        var winner = results[0] is null ? "a" : "b";
        Assert.Equal(winner, await a.Grains.GetGrain<ICounterGrain>(key).GetLabelAsync());
        Assert.Equal(winner, await b.Grains.GetGrain<ICounterGrain>(key).GetLabelAsync());
        Assert.Equal(1, await b.Grains.GetGrain<ICounterGrain>(key).GetAsync());
    }

    [Fact]
    public async Task A_turn_reads_what_another_silo_wrote()
    {
        var a = StartSilo();
        var b = StartSilo();
        var key = Guid.NewGuid().ToString();
        Assert.Equal(1, await a.Grains.GetGrain<ICounterGrain>(key).IncrementAsync());
        Assert.Equal(2, await b.Grains.GetGrain<ICounterGrain>(key).IncrementAsync());
        Assert.Equal(3, await a.Grains.GetGrain<ICounterGrain>(key).IncrementAsync());
    }

    [Fact]
    public async Task A_reminder_due_once_is_delivered_once_while_two_silos_poll()
    {
        var a = StartSilo();
        var b = StartSilo();
        var key = Guid.NewGuid().ToString();
        await a.Grains.GetGrain<IReminderProbeGrain>(key).ScheduleAsync("once", Clock.GetUtcNow().AddSeconds(5));

        await Task.WhenAll(a.Reminders.PollOnceAsync(), b.Reminders.PollOnceAsync());
        Assert.Equal(0, Log.Count(key, "once")); // not due yet

        Clock.Advance(TimeSpan.FromSeconds(5));
        for (var round = 0; round < 3; round++)
        {
            await Task.WhenAll(a.Reminders.PollOnceAsync(), b.Reminders.PollOnceAsync());
            Clock.Advance(TimeSpan.FromSeconds(11)); // past any lease
        }

        Assert.Equal(1, Log.Count(key, "once"));
        Assert.Null(await Reminders.ReadAsync(new GrainId("test-reminder-probe", key), "once"));
    }

    [Fact]
    public async Task A_reminder_held_by_a_dead_silo_is_delivered_by_another_after_the_lease()
    {
        var survivor = StartSilo();
        var key = Guid.NewGuid().ToString();
        await survivor.Grains.GetGrain<IReminderProbeGrain>(key).ScheduleAsync("r", Clock.GetUtcNow());

        // The dead silo claimed the row and never completed or released it.
        var claimed = await Reminders.ClaimDueAsync("dead-silo", Clock.GetUtcNow(), TimeSpan.FromSeconds(10), 100);
        Assert.Single(claimed);

        Clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, await survivor.Reminders.PollOnceAsync());
        Assert.Equal(0, Log.Count(key, "r"));

        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await survivor.Reminders.PollOnceAsync());
        Assert.Equal(1, Log.Count(key, "r"));
    }

    [Fact]
    public async Task A_silo_stopped_gracefully_finishes_its_delivery_and_hands_back_its_other_leases_at_once()
    {
        var stopping = StartSilo(new ReminderOptions { DeliveryParallelism = 1 });
        var other = StartSilo();
        var key = Guid.NewGuid().ToString();
        var probe = stopping.Grains.GetGrain<IReminderProbeGrain>(key);
        await probe.ScheduleAsync("first", Clock.GetUtcNow());
        await probe.ScheduleAsync("second", Clock.GetUtcNow().AddMilliseconds(1));
        Clock.Advance(TimeSpan.FromSeconds(1));

        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Log.OnDelivery = async (_, name) =>
        {
            if (name != "first")
                return;
            inside.SetResult();
            await release.Task;
        };

        var poll = stopping.Reminders.PollOnceAsync(); // claims both, blocks inside "first"
        await inside.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var stop = stopping.Reminders.StopAsync(CancellationToken.None);
        Assert.Equal(0, await other.Reminders.PollOnceAsync()); // both still leased to the stopping silo
        Assert.False(stop.IsCompleted);

        release.SetResult();
        await poll;
        await stop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, await other.Reminders.PollOnceAsync()); // same instant: no lease had to run out
        Assert.Equal(1, Log.Count(key, "first"));
        Assert.Equal(1, Log.Count(key, "second"));
    }

    [Fact]
    public async Task Periodic_reminders_keep_firing_and_skip_missed_ticks()
    {
        var silo = StartSilo();
        var key = Guid.NewGuid().ToString();
        var start = Clock.GetUtcNow();
        await silo.Grains.GetGrain<IReminderProbeGrain>(key).ScheduleAsync("tick", start.AddSeconds(1), TimeSpan.FromSeconds(5));

        Clock.Advance(TimeSpan.FromSeconds(1));
        await silo.DrainRemindersAsync();
        Clock.Advance(TimeSpan.FromSeconds(5));
        await silo.DrainRemindersAsync();
        Clock.Advance(TimeSpan.FromSeconds(5));
        await silo.DrainRemindersAsync();
        Assert.Equal(3, Log.Count(key, "tick"));

        Clock.Advance(TimeSpan.FromSeconds(22)); // four ticks missed: delivered once, not four times
        await silo.DrainRemindersAsync();
        Assert.Equal(4, Log.Count(key, "tick"));
        var row = await Reminders.ReadAsync(new GrainId("test-reminder-probe", key), "tick");
        Assert.Equal(start.AddSeconds(36), row!.DueAt);

        await silo.Grains.GetGrain<IReminderProbeGrain>(key).CancelAsync("tick");
        Clock.Advance(TimeSpan.FromSeconds(60));
        await silo.DrainRemindersAsync();
        Assert.Equal(4, Log.Count(key, "tick"));
    }

    [Fact]
    public async Task A_reminder_moved_during_its_own_delivery_keeps_its_new_due_time()
    {
        var silo = StartSilo();
        var key = Guid.NewGuid().ToString();
        var probe = silo.Grains.GetGrain<IReminderProbeGrain>(key);
        await probe.ScheduleAsync("r", Clock.GetUtcNow());
        var later = Clock.GetUtcNow().AddMinutes(5);
        Log.OnDelivery = (_, _) => Reminders.UpsertAsync(new GrainId("test-reminder-probe", key), "r", later, null);

        await silo.DrainRemindersAsync();

        var row = await Reminders.ReadAsync(new GrainId("test-reminder-probe", key), "r");
        Assert.Equal(later, row!.DueAt);
    }

    [Fact]
    public async Task A_failing_delivery_is_retried_after_its_lease()
    {
        var silo = StartSilo();
        var key = Guid.NewGuid().ToString();
        await silo.Grains.GetGrain<IReminderProbeGrain>(key).ScheduleAsync("r", Clock.GetUtcNow());
        var failures = 0;
        Log.OnDelivery = (_, _) => failures++ == 0 ? throw new InvalidOperationException("boom") : Task.CompletedTask;

        Assert.Equal(1, await silo.Reminders.PollOnceAsync());
        Assert.Equal(0, await silo.Reminders.PollOnceAsync()); // no hot loop: still leased
        Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, await silo.Reminders.PollOnceAsync());
        Assert.Equal(1, Log.Count(key, "r"));
    }

    [Fact]
    public async Task Ten_thousand_reminders_due_at_once_are_all_delivered_and_none_twice()
    {
        const int count = 10_000;
        var a = StartSilo();
        var b = StartSilo();
        var due = Clock.GetUtcNow().AddSeconds(1);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) => await Reminders.UpsertAsync(new GrainId("test-reminder-probe", $"k{i}"), "r", due, null));
        Clock.Advance(TimeSpan.FromSeconds(1));

        var claimed = await Task.WhenAll(a.DrainRemindersAsync(), b.DrainRemindersAsync());

        Assert.Equal(count, claimed.Sum());
        Assert.True(claimed.All(c => c > 0), "both silos took a share");
        var deliveries = Log.Deliveries.GroupBy(d => d.Grain).ToList();
        Assert.Equal(count, deliveries.Count);
        Assert.All(deliveries, g => Assert.Single(g));
        Assert.Empty(await Reminders.ClaimDueAsync("check", Clock.GetUtcNow().AddDays(1), TimeSpan.FromSeconds(1), 10));
    }

    private static async Task<Exception?> Outcome(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}

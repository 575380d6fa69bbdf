using System.Collections.Concurrent;
using Broker.Grains.Runtime;

namespace Broker.Testing.Runtime;

/// <summary>Small grains that exercise one runtime guarantee each.</summary>
public static class TestGrains
{
    public static void Register(GrainRegistry registry)
    {
        registry.Add<ICounterGrain, CounterGrain>("test-counter");
        registry.Add<ITurnProbeGrain, TurnProbeGrain>("test-turn-probe");
        registry.Add<IReminderProbeGrain, ReminderProbeGrain>("test-reminder-probe");
    }
}

public sealed class CounterState
{
    public int Count { get; set; }
    public string? Label { get; set; }
}

public interface ICounterGrain
{
    Task<int> IncrementAsync();
    Task<int> GetAsync();
    /// <summary>Reads, waits at the gate until every racer has read, then writes its label.</summary>
    Task SetLabelAfterGateAsync(string label, RaceGate gate);
    Task<string?> GetLabelAsync();
    Task FailAsync();
}

public sealed class CounterGrain(GrainContext context) : ICounterGrain
{
    private readonly PersistentState<CounterState> _state = context.GetState<CounterState>();

    public async Task<int> IncrementAsync()
    {
        _state.State.Count++;
        await _state.WriteStateAsync();
        return _state.State.Count;
    }

    public Task<int> GetAsync() => Task.FromResult(_state.State.Count);

    public async Task SetLabelAfterGateAsync(string label, RaceGate gate)
    {
        await gate.ArriveAndWaitAsync();
        _state.State.Label = label;
        await _state.WriteStateAsync();
    }

    public Task<string?> GetLabelAsync() => Task.FromResult(_state.State.Label);

    public Task FailAsync() => throw new InvalidOperationException("grain failed on purpose");
}

/// <summary>Lets N callers continue only when all N have arrived.</summary>
public sealed class RaceGate(int participants)
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    public Task ArriveAndWaitAsync()
    {
        if (Interlocked.Increment(ref _arrived) == participants)
            _open.SetResult();
        return _open.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

public interface ITurnProbeGrain
{
    /// <summary>Enters, records how many calls are inside this activation at once, waits, leaves.</summary>
    Task<int> EnterAsync(Func<Task> whileInside);
}

public sealed class TurnProbeGrain : ITurnProbeGrain
{
    private int _inside;

    public async Task<int> EnterAsync(Func<Task> whileInside)
    {
        var concurrent = Interlocked.Increment(ref _inside);
        try
        {
            await whileInside();
            return concurrent;
        }
        finally
        {
            Interlocked.Decrement(ref _inside);
        }
    }
}

/// <summary>Every reminder delivery, shared by all test silos of one test.</summary>
public sealed class ReminderLog
{
    public ConcurrentQueue<(string Grain, string Name, DateTimeOffset DueAt)> Deliveries { get; } = new();

    /// <summary>Called inside the delivery; a test may make it block or throw.</summary>
    public Func<string, string, Task>? OnDelivery { get; set; }

    public int Count(string grain, string name) => Deliveries.Count(d => d.Grain == grain && d.Name == name);
}

public interface IReminderProbeGrain
{
    Task ScheduleAsync(string name, DateTimeOffset dueAt, TimeSpan? period = null);
    Task CancelAsync(string name);
}

public sealed class ReminderProbeGrain(GrainContext context, ReminderLog log) : IReminderProbeGrain, IRemindable
{
    public Task ScheduleAsync(string name, DateTimeOffset dueAt, TimeSpan? period = null) =>
        context.RegisterOrUpdateReminderAsync(name, dueAt, period);

    public Task CancelAsync(string name) => context.UnregisterReminderAsync(name);

    public async Task ReceiveReminderAsync(string name, ReminderTick tick)
    {
        if (log.OnDelivery is { } hook)
            await hook(context.Key, name);
        log.Deliveries.Enqueue((context.Key, name, tick.DueAt));
    }
}

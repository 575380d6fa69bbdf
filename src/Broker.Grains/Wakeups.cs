namespace Broker.Grains;

/// <summary>
/// A durable wake-up at a time, on an Orleans reminder (docs/design.md §2, semantics 3). Reminders are
/// periodic: the period is how soon a wake-up that was missed (its silo died, or the tick threw)
/// comes again, so handlers re-register or cancel once their work is done, and must be idempotent.
/// </summary>
internal static class Wakeups
{
    public static Task WakeAtAsync(this Grain grain, string name, DateTimeOffset at, BrokerGrainOptions options, TimeProvider time) =>
        grain.RegisterOrUpdateReminder(name, Max(TimeSpan.Zero, at - time.GetUtcNow()), options.ReminderPeriod);

    public static async Task CancelWakeupAsync(this Grain grain, string name)
    {
        if (await grain.GetReminder(name) is { } reminder)
            await grain.UnregisterReminder(reminder);
    }

    /// <summary>How late a tick came, for <c>broker_reminder_lag_seconds</c>.</summary>
    public static void RecordLag(TickStatus status, TimeProvider time) =>
        BrokerMetrics.ReminderLag.Record(Math.Max(0, (time.GetUtcNow() - status.CurrentTickTime).TotalSeconds));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

namespace Broker.Grains.Runtime;

/// <summary>What a reminder delivery tells the grain.</summary>
/// <param name="DueAt">When this tick was due.</param>
/// <param name="Period">The period of a repeating reminder; null for one that fires once.</param>
public readonly record struct ReminderTick(DateTimeOffset DueAt, TimeSpan? Period);

/// <summary>Implemented by grains that register reminders. Delivery is at least once, so handlers must
/// be idempotent: check the grain's own state, not the fact that the reminder fired.</summary>
public interface IRemindable
{
    Task ReceiveReminderAsync(string name, ReminderTick tick);
}

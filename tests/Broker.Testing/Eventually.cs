namespace Broker.Testing;

/// <summary>Waits for a condition instead of sleeping: polls until it holds, failing with what was awaited
/// after a bound generous enough that only a broken condition, never a busy machine, reaches it.</summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Still waiting for: {what}");
            await Task.Delay(50);
        }
    }
}

namespace Broker.Grains.Runtime;

/// <summary>Timing of reminder delivery (DESIGN.md §6), bound from <c>Broker:Reminders</c>.</summary>
public sealed class ReminderOptions
{
    /// <summary>How often a silo looks for due reminders when the last look found fewer than a batch.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a claim holds a row; a silo that dies holding it delays delivery by at most this.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Rows claimed per round trip.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>Deliveries of one batch that run at the same time.</summary>
    public int DeliveryParallelism { get; set; } = 16;
}

/// <summary>When idle activations are dropped, bound from <c>Broker:Activations</c>.</summary>
public sealed class ActivationOptions
{
    /// <summary>An activation unused for this long is dropped; its state stays in storage.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the collector looks for idle activations.</summary>
    public TimeSpan CollectionInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>This silo's name in lease columns; unique per process so that a restarted silo never
/// mistakes a dead predecessor's leases for its own.</summary>
public sealed record SiloIdentity(string Id)
{
    public static SiloIdentity CreateUnique() =>
        new($"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
}

using System.Net;

namespace Broker.Silo.Hosting;

/// <summary>The Orleans cluster a silo joins (docs/design.md §4), read from <c>Broker:Cluster</c> and friends.</summary>
public sealed record ClusterSettings
{
    /// <summary>Silos with the same cluster id (in one PostgreSQL) form one cluster.</summary>
    public required string ClusterId { get; init; }

    /// <summary>Names the service's grain state and reminders; stays the same across deployments.</summary>
    public required string ServiceId { get; init; }

    /// <summary>This silo's name in the membership table (the pod name on Kubernetes).</summary>
    public required string SiloName { get; init; }

    /// <summary>Where other silos reach this one; every silo on one host needs its own.</summary>
    public required int SiloPort { get; init; }

    /// <summary>The address other silos reach this one at (the pod IP on Kubernetes).</summary>
    public required IPAddress AdvertisedAddress { get; init; }

    /// <summary>An activation unused this long is collected; its state stays in storage.</summary>
    public required TimeSpan ActivationIdleTimeout { get; init; }

    /// <summary>How soon a durable wake-up that was missed comes again (<see cref="Broker.Grains.BrokerGrainOptions.ReminderPeriod"/>).</summary>
    public required TimeSpan ReminderPeriod { get; init; }
}

using System.Diagnostics.Metrics;

namespace Broker.Grains;

/// <summary>The broker's own instruments (docs/design.md §6 names); the silo exports them.</summary>
public static class BrokerMetrics
{
    public static readonly Meter Meter = new("Broker");

    public static readonly Counter<long> Refreshes = Meter.CreateCounter<long>("broker_refreshes_total", description: "Upstream token refreshes by outcome.");

    public static readonly Counter<long> RefreshLost = Meter.CreateCounter<long>("broker_refresh_lost_total",
        description: "Sessions lost because a silo died between the provider's refresh answer and the write of the new tokens.");

    public static readonly Counter<long> Logins = Meter.CreateCounter<long>("broker_logins_total", description: "Logins by tenant, connection and outcome.");

    public static readonly UpDownCounter<long> RefreshesWaiting = Meter.CreateUpDownCounter<long>("broker_refreshes_waiting",
        description: "Refreshes due on this silo waiting for one of its refresh slots.");

    public static readonly Histogram<double> ReminderLag = Meter.CreateHistogram<double>("broker_reminder_lag_seconds", "s",
        "How long after its due time a reminder tick was delivered.");
}

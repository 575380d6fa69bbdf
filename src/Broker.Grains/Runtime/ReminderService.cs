using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Broker.Grains.Runtime;

/// <summary>
/// Delivers durable reminders (DESIGN.md §2, semantics 3): claims due rows in batches under a lease,
/// runs each as a turn on its grain, then deletes the row or moves it to its next tick. A delivery
/// that throws keeps its lease, so the row comes back when the lease runs out: a failing handler is
/// retried every lease period, not in a hot loop. On stop it finishes the deliveries under way and
/// hands back every lease it still holds, so another silo takes over at once.
/// </summary>
public sealed class ReminderService(
    IReminderTable table,
    Catalog catalog,
    GrainRegistry registry,
    ReminderOptions options,
    SiloIdentity silo,
    TimeProvider time,
    ILogger<ReminderService> logger,
    IHostApplicationLifetime? lifetime = null) : BackgroundService
{
    private readonly CancellationTokenSource _stopClaiming = new();

    // Held for the whole of a poll, so that stopping can wait for the deliveries under way.
    private readonly SemaphoreSlim _polling = new(1, 1);

    private static readonly System.Diagnostics.Metrics.Meter Meter = new("Broker.Runtime");
    private static readonly System.Diagnostics.Metrics.Histogram<double> Lag =
        Meter.CreateHistogram<double>("broker_reminder_lag_seconds", "s", "Reminder delivery time minus due time.");

    /// <summary>Claims one batch of due reminders and delivers it. Returns how many rows were claimed.</summary>
    public async Task<int> PollOnceAsync(CancellationToken cancellationToken = default)
    {
        await _polling.WaitAsync(cancellationToken);
        try
        {
            if (_stopClaiming.IsCancellationRequested)
                return 0;
            var now = time.GetUtcNow();
            var batch = await table.ClaimDueAsync(silo.Id, now, options.LeaseTime, options.BatchSize, cancellationToken);
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.DeliveryParallelism };
            await Parallel.ForEachAsync(batch, parallel, async (entry, _) =>
            {
                // Once stopping, rows not yet started stay leased and are released in one statement.
                if (!_stopClaiming.IsCancellationRequested)
                    await DeliverAsync(entry, cancellationToken);
            });
            return batch.Count;
        }
        finally
        {
            _polling.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A stopping silo stops claiming the moment it is told to stop (DESIGN.md §6), even while the
        // host still serves requests for its drain delay.
        using var stopping = lifetime?.ApplicationStopping.Register(() => _stopClaiming.Cancel());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopClaiming.Token);
        while (!stop.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await PollOnceAsync(CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Polling for due reminders failed; retrying");
            }
            if (claimed >= options.BatchSize)
                continue; // a full batch: more are probably due right now
            try
            {
                await Task.Delay(options.PollInterval, time, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopClaiming.CancelAsync();
        await base.StopAsync(cancellationToken);
        await _polling.WaitAsync(cancellationToken); // the deliveries under way finish first
        try
        {
            await table.ReleaseAsync(silo.Id, cancellationToken);
        }
        catch (Exception e)
        {
            // Not fatal: the leases run out on their own.
            logger.LogWarning(e, "Could not hand back reminder leases of silo {Silo}", silo.Id);
        }
        finally
        {
            _polling.Release(); // later polls return at once: claiming has stopped
        }
    }

    private async Task DeliverAsync(ReminderEntry entry, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        Lag.Record((started - entry.DueAt).TotalSeconds);
        try
        {
            if (registry.ByName(entry.Grain.Type) is null)
                logger.LogWarning("Dropping reminder {Name} of unknown grain type {Grain}", entry.Name, entry.Grain);
            else
                await catalog.InvokeAsync(entry.Grain, async grain =>
                {
                    if (grain is not IRemindable remindable)
                        throw new InvalidOperationException($"Grain {entry.Grain} has a reminder but is not IRemindable.");
                    await remindable.ReceiveReminderAsync(entry.Name, new ReminderTick(entry.DueAt, entry.Period));
                    return true;
                });
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Reminder {Name} of {Grain} failed; it is retried when its lease ends", entry.Name, entry.Grain);
            return;
        }
        await table.CompleteAsync(entry, silo.Id, NextDue(entry, time.GetUtcNow()), cancellationToken);
    }

    /// <summary>The first tick after <paramref name="now"/>: ticks missed while no silo ran are skipped, not replayed.</summary>
    internal static DateTimeOffset? NextDue(ReminderEntry entry, DateTimeOffset now)
    {
        if (entry.Period is not { } period)
            return null;
        var missed = Math.Max(0, (now - entry.DueAt).Ticks / period.Ticks);
        return entry.DueAt + TimeSpan.FromTicks(period.Ticks * (missed + 1));
    }
}

using Microsoft.Extensions.Hosting;

namespace Broker.Grains.Runtime;

/// <summary>Drops idle activations now and then, so a silo's memory does not grow with the number of
/// grains it has ever touched. Safe at any time: every turn reads its state from storage anyway.</summary>
public sealed class ActivationCollector(Catalog catalog, ActivationOptions options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CollectionInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                catalog.CollectIdle(options.IdleTimeout);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

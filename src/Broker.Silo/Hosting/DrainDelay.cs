namespace Broker.Silo.Hosting;

/// <summary>
/// On SIGTERM, keeps the silo serving for a moment while /readyz already fails (DrainingCheck), so
/// a load balancer that polls readiness stops sending traffic before Kestrel stops listening.
/// StoppingAsync of lifecycle services runs after ApplicationStopping fires and before any
/// service's StopAsync, Kestrel's included.
/// </summary>
public sealed class DrainDelay(SiloSettings settings) : IHostedLifecycleService
{
    public Task StoppingAsync(CancellationToken cancellationToken) =>
        Task.Delay(settings.DrainDelay, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

using Orleans.Runtime;

namespace Broker.Silo.Hosting;

/// <summary>
/// A grain call that met a silo that just died (the message was rejected: the target silo is dead or
/// became unavailable) is sent once more, when the cluster has moved the grain elsewhere
/// (DESIGN.md §2). A second failure reaches the front end, which answers 503 with Retry-After. The
/// grains' side effects are fenced by conditional writes, so a call that ran before its answer was
/// lost does no harm when it runs again.
/// </summary>
public sealed class SiloCallRetry(ILogger<SiloCallRetry> logger) : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (OrleansMessageRejectionException e)
        {
            logger.LogInformation("Call {Method} to {Grain} met an unavailable silo ({Error}); retrying once", context.MethodName, context.TargetId, e.Message);
            await context.Invoke();
        }
    }
}

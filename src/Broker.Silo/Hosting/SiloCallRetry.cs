using Orleans.Runtime;
using Orleans.Serialization.Invocation;

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
        if (await RejectionAsync(context) is { } rejected)
        {
            logger.LogInformation("Call {Method} to {Grain} met an unavailable silo ({Error}); retrying once", context.MethodName, context.TargetId, rejected.Message);
            // A second rejection stays in the response: the caller throws it, and the front end answers 503.
            if (await RejectionAsync(context) is { } again && context.Response?.Exception is null)
                context.Response = Response.FromException(again);
        }
    }

    /// <summary>Sends the call; the rejection it met, if any. A failed call comes back as a response that
    /// carries its exception (the caller throws it when it reads the result), or as a throw at sending.</summary>
    private static async Task<OrleansMessageRejectionException?> RejectionAsync(IOutgoingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
            return context.Response?.Exception as OrleansMessageRejectionException;
        }
        catch (OrleansMessageRejectionException e)
        {
            return e;
        }
    }
}

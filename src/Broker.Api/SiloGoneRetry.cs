using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Broker.Api;

/// <summary>
/// A request whose grain sat on a silo that just died is run once more (docs/design.md §2): Orleans rejects
/// the call (<see cref="OrleansMessageRejectionException"/>, e.g. <see cref="SiloUnavailableException"/>)
/// until the cluster knows the silo is gone, and then activates the grain on a survivor. A second
/// rejection is answered 503 with Retry-After (<see cref="ErrorResponses"/>), never 500. Running a
/// route again is safe: the grains fence what must not happen twice (a login state, a hand-off code,
/// a refresh) with conditional writes, so the second run finds the first run's effect, not a copy.
/// A timed-out call is not retried: it may still be running.
/// </summary>
public static class SiloGoneRetry
{
    public static TBuilder RetryOnceWhenASiloIsGone<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var request = context.HttpContext.Request;
            // The route may read the body; the second run reads it again from the start.
            request.EnableBuffering();
            try
            {
                return await next(context);
            }
            catch (OrleansMessageRejectionException e)
            {
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SiloGoneRetry))
                    .LogInformation("{Method} {Path} met a silo that is gone ({Error}); running it once more", request.Method, request.Path, e.Message);
                request.Body.Position = 0;
                return await next(context);
            }
        });
}

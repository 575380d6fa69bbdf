using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

public enum RateLimitedRoute { Login, Callback, Exchange, Authorize, Token }

/// <summary>
/// Fixed-window budgets per minute (docs/design.md §5, §6): per client IP for login and callback, per
/// tenant for exchange, since a tenant's back end redeems every code of every user from one
/// address. Built from the same limiters ASP.NET's rate-limiting middleware uses, but not the
/// middleware itself: it answers 429 before the endpoint runs, while §6 ranks 429 last, after
/// 400/404/401/413 (see <see cref="ApiChecks"/> and docs/api.md). Limits are per silo.
/// </summary>
public sealed class RateLimits : IDisposable
{
    private readonly Dictionary<RateLimitedRoute, PartitionedRateLimiter<string>?> limiters;

    public RateLimits(BrokerApiOptions options)
    {
        limiters = Enum.GetValues<RateLimitedRoute>().ToDictionary(route => route, route =>
            Create(route == RateLimitedRoute.Exchange ? options.ExchangePermitsPerMinute : options.RateLimitPermitsPerMinute));
    }

    /// <summary>Takes a permit; every request counts, whatever it is answered later. Null when limiting is off.</summary>
    public RateLimitLease? Acquire(HttpContext http, RateLimitedRoute route)
    {
        // Behind a proxy every client has the proxy's address unless forwarded headers are enabled (docs/api.md).
        var partition = route == RateLimitedRoute.Exchange
            ? "tenant:" + http.GetRouteValue("tenant")
            : http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return limiters[route]?.AttemptAcquire(partition);
    }

    public static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);

    public void Dispose()
    {
        foreach (var limiter in limiters.Values)
            limiter?.Dispose();
    }

    private static PartitionedRateLimiter<string>? Create(int permitsPerMinute) =>
        permitsPerMinute == 0
            ? null
            : PartitionedRateLimiter.Create<string, string>(ip => RateLimitPartition.GetFixedWindowLimiter(ip, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permitsPerMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
}

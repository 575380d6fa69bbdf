namespace Broker.Grains.Connectors.Http;

/// <summary>Limits for every call a connector makes to a provider.</summary>
public sealed record OutboundHttpOptions
{
    /// <summary>The name of the <see cref="System.Net.Http.IHttpClientFactory"/> client connectors use.</summary>
    public const string HttpClientName = "Broker.Upstream";

    /// <summary>How long one attempt may take, body included. Default 10 s.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a call may take over all its attempts and waits. Default 30 s.</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries after the first attempt, for transient failures only. Default 2.</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>The first backoff delay; later ones grow exponentially, with jitter. Default 200 ms.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest <c>Retry-After</c> honoured; a provider asking for more is not retried. Default 5 s.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest response body read; anything bigger is treated as a broken upstream. Default 1 MiB.</summary>
    public int MaxResponseBytes { get; init; } = 1024 * 1024;
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Broker.Grains.Connectors.Http;

/// <summary>Whether a request may be sent again after it might have reached the provider.</summary>
public enum RetrySafety
{
    /// <summary>
    /// Reads (discovery, JWKS, userinfo) and calls that are idempotent by their RFC (revocation,
    /// RFC 7009 §2.2: revoking twice answers 200 twice; introspection). Retried on any transient failure.
    /// </summary>
    Idempotent,

    /// <summary>
    /// Code exchange and refresh: the provider consumes the code or (when it rotates) the refresh
    /// token, so a second attempt after the first was processed gets invalid_grant and would end
    /// a good login or session. Retried only when the request provably was not processed: the
    /// connection failed before it was sent, or the provider answered 503 or 429 (it declined
    /// to handle the request, RFC 9110 §15.6.4, RFC 6585 §4). Never after a timeout, a reset
    /// mid-request, or a 502/504 (a gateway may have forwarded it).
    /// </summary>
    NotIdempotent,
}

/// <summary>A fully read upstream response.</summary>
public sealed record UpstreamResponse(HttpStatusCode StatusCode, string? MediaType, string Body, TimeSpan? RetryAfter)
{
    /// <summary>Whether the status is 2xx.</summary>
    public bool IsSuccess => (int)StatusCode is >= 200 and <= 299;
}

/// <summary>
/// Sends requests to providers through a Polly pipeline: a total timeout around bounded,
/// jittered retries around a per-attempt timeout. Failures that remain become
/// <see cref="ConnectorErrorKind.UpstreamUnavailable"/>; the caller's own cancellation passes through.
/// </summary>
public sealed class UpstreamHttp
{
    private static readonly ResiliencePropertyKey<RetrySafety> SafetyKey = new("broker.retry-safety");
    private readonly Func<HttpClient> httpClient;
    private readonly OutboundHttpOptions options;
    private readonly ResiliencePipeline<UpstreamResponse> pipeline;

    /// <summary>Creates the sender. Timeouts and backoff run on real time: they bound real I/O.</summary>
    public UpstreamHttp(Func<HttpClient> httpClient, OutboundHttpOptions options)
    {
        this.httpClient = httpClient;
        this.options = options;
        pipeline = new ResiliencePipelineBuilder<UpstreamResponse>()
            .AddTimeout(options.TotalTimeout)
            .AddRetry(new RetryStrategyOptions<UpstreamResponse>
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                ShouldHandle = args => ValueTask.FromResult(
                    options.MaxRetries > 0 && ShouldRetry(args.Outcome, args.Context.Properties.GetValue(SafetyKey, RetrySafety.NotIdempotent))),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.RetryAfter),
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>The options in force.</summary>
    public OutboundHttpOptions Options => options;

    /// <summary>
    /// Sends a request built fresh for each attempt and reads its body. Any HTTP status is
    /// returned; only transport failures and timeouts throw.
    /// </summary>
    public async Task<UpstreamResponse> SendAsync(
        Func<HttpRequestMessage> createRequest,
        RetrySafety safety,
        string what,
        CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(SafetyKey, safety);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (ctx, state) => await state.self.SendOnceAsync(state.createRequest, ctx.CancellationToken),
                context,
                (self: this, createRequest));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is TimeoutRejectedException or HttpRequestException or OperationCanceledException or IOException)
        {
            // The message names the call, never the URL's query or a body: those may carry tokens.
            throw new ConnectorException(ConnectorErrorKind.UpstreamUnavailable, $"The provider's {what} did not answer: {Describe(ex)}.", innerException: ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task<UpstreamResponse> SendOnceAsync(Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        using var request = createRequest();
        using var response = await httpClient().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var body = await ReadBodyAsync(response.Content, cancellationToken);
        return new UpstreamResponse(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, RetryAfter(response.Headers.RetryAfter));
    }

    private async Task<string> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > options.MaxResponseBytes)
            {
                throw new HttpRequestException($"response body larger than {options.MaxResponseBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private bool ShouldRetry(Outcome<UpstreamResponse> outcome, RetrySafety safety)
    {
        if (outcome.Exception is { } ex)
        {
            return safety == RetrySafety.Idempotent
                ? ex is HttpRequestException or TimeoutRejectedException or IOException
                : ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };
        }

        var response = outcome.Result!;
        if (response.RetryAfter is { } wait && wait > options.MaxRetryAfter)
        {
            return false;
        }

        return response.StatusCode switch
        {
            HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests => true,
            HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => safety == RetrySafety.Idempotent,
            _ => false,
        };
    }

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        return header?.Date is { } date ? date - DateTimeOffset.UtcNow is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero : null;
    }

    private static string Describe(Exception ex) => ex switch
    {
        TimeoutRejectedException => "timed out",
        HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } h => h.HttpRequestError.ToString(),
        HttpRequestException => "request failed",
        _ => "connection failed",
    };
}

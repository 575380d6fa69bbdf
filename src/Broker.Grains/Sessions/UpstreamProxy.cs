using System.Net.Http.Headers;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.Http;

namespace Broker.Grains.Sessions;

/// <summary>Sends one proxied call: resolves the target below the API base, authorizes it the
/// provider's way, caps time and size, and hands back the answer as it came.</summary>
public sealed class UpstreamProxy(IHttpClientFactory clients, BrokerGrainOptions options)
{
    /// <summary>The most of an upstream answer the broker will relay.</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    private static readonly HashSet<string> Methods = new(StringComparer.Ordinal) { "GET", "POST", "PUT", "PATCH", "DELETE" };

    public static bool IsAllowedMethod(string? method) => method is not null && Methods.Contains(method);

    /// <summary>Checks the target before anything is sent; null when the call may go.</summary>
    public static UpstreamCallOutcome.Refused? Check(IApiConnector connector, UpstreamCall call, out Uri target)
    {
        target = null!;
        if (connector.ApiBaseUrl is not { } apiBase)
            return new("no_upstream_api", "This connection has no API base URL to call (set apiBaseUrl).");
        var resolved = ApiTarget.Resolve(apiBase, call.Path, call.Query);
        if (!resolved.IsValid)
            return new("invalid_upstream_target", resolved.Error!);
        target = resolved.Url!;
        return null;
    }

    /// <summary>Sends the call; the classification says whether a refresh and one retry could help.</summary>
    public async Task<(UpstreamCallOutcome Outcome, ApiFailure? Failure)> SendAsync(
        IApiConnector connector, Uri target, UpstreamCall call, UpstreamTokens tokens, UpstreamProfile profile)
    {
        using var request = new HttpRequestMessage(new HttpMethod(call.Method), target);
        if (call.JsonBody is not null)
            request.Content = new StringContent(call.JsonBody, System.Text.Encoding.UTF8, "application/json");
        else if (call.Form is not null)
            request.Content = new FormUrlEncodedContent(call.Form);
        var headers = call.Headers ?? new Dictionary<string, string>();
        if (!headers.Keys.Any(h => h.Equals("accept", StringComparison.OrdinalIgnoreCase)))
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        foreach (var (name, value) in headers)
        {
            if (name.Equals("content-type", StringComparison.OrdinalIgnoreCase))
                request.Content?.Headers.ContentType = MediaTypeHeaderValue.TryParse(value, out var type) ? type : request.Content.Headers.ContentType;
            else
                request.Headers.TryAddWithoutValidation(name, value);
        }
        connector.AuthorizeApiRequest(request, tokens, profile);

        using var timeout = new CancellationTokenSource(options.UpstreamCallTimeout);
        try
        {
            using var response = await clients.CreateClient(OutboundHttpOptions.HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await ReadCappedAsync(response.Content, timeout.Token);
            if (body is null)
                return (new UpstreamCallOutcome.Unavailable("upstream_response_too_large", $"The provider answered more than {MaxResponseBytes} bytes."), null);
            var status = (int)response.StatusCode;
            return (new UpstreamCallOutcome.Response(status, response.Content.Headers.ContentType?.ToString(), body, Relayed(response)),
                connector.ClassifyApiResponse(status, body));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // The message names no URL: QQ's tokens travel in the query.
            return (new UpstreamCallOutcome.Unavailable("upstream_unavailable", "The provider's API did not answer."), null);
        }
    }

    /// <summary>The request headers a call may set (docs/design.md §6); any other is refused unsent.</summary>
    public static readonly IReadOnlySet<string> RequestHeaders = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "accept", "accept-language", "content-type", "if-none-match", "if-modified-since", "x-github-api-version",
    };

    /// <summary>The provider's response headers relayed to the caller: caching, pagination and rate limits.</summary>
    public static readonly IReadOnlyList<string> ResponseHeaders =
        ["etag", "last-modified", "link", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-oauth-scopes"];

    private static Dictionary<string, string> Relayed(HttpResponseMessage response)
    {
        var relayed = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in ResponseHeaders)
        {
            if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
                relayed[name] = string.Join(", ", values);
        }
        return relayed;
    }

    private static async Task<byte[]?> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxResponseBytes)
            return null;
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxResponseBytes)
                return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Broker.Grains.Connectors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Broker.Testing.Upstreams.Providers;

/// <summary>A request a provider fake received, with its raw body (JSON bodies are not in <see cref="RecordedRequest.Form"/>).</summary>
public sealed record ProviderRequest(RecordedRequest Request, string RawQuery, string Body)
{
    /// <summary>The path.</summary>
    public string Path => Request.Path;
}

/// <summary>
/// The Kestrel host every provider fake runs on: 127.0.0.1 with a random port, every request
/// recorded, and per-endpoint failures queued by name. A helper the fakes hold, not a base class.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ProviderRequest> requests = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<FakeFailure>> failures = new();
    private readonly CancellationTokenSource stopping = new();

    private FakeUpstream(WebApplication app) => this.app = app;

    /// <summary>The root URL, <c>http://127.0.0.1:{port}</c>, without a trailing slash.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Every request received, in order.</summary>
    public IReadOnlyList<ProviderRequest> Requests => requests.ToArray();

    /// <summary>Requests received at one path.</summary>
    public IReadOnlyList<ProviderRequest> RequestsTo(string path) => requests.Where(r => r.Path == path).ToArray();

    /// <summary>Starts a server whose routes <paramref name="map"/> adds.</summary>
    public static async Task<FakeUpstream> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSetting(WebHostDefaults.SuppressStatusMessagesKey, "true");
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        var upstream = new FakeUpstream(app);
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var body = await new StreamReader(context.Request.Body, Encoding.UTF8, leaveOpen: true).ReadToEndAsync();
            context.Request.Body.Position = 0;
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
            upstream.requests.Enqueue(new ProviderRequest(
                new RecordedRequest(
                    context.Request.Method,
                    context.Request.Path.Value ?? "",
                    context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
                    form?.ToDictionary(f => f.Key, f => f.Value.ToString()) ?? [],
                    context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)),
                context.Request.QueryString.Value ?? "",
                body));
            await next();
        });
        map(app);
        await app.StartAsync();
        upstream.BaseUrl = app.Urls.First().TrimEnd('/');
        return upstream;
    }

    /// <summary>Makes the next call to the named endpoint fail; queue several for several calls.</summary>
    public void FailNext(string endpoint, FakeFailure failure) =>
        failures.GetOrAdd(endpoint, _ => new ConcurrentQueue<FakeFailure>()).Enqueue(failure);

    /// <summary>The queued failure for an endpoint as a result, or null to answer normally.</summary>
    public async Task<IResult?> FailureAsync(HttpContext context, string endpoint) =>
        failures.TryGetValue(endpoint, out var queue) && queue.TryDequeue(out var failure)
            ? await failure.AnswerAsync(context, stopping.Token)
            : null;

    /// <summary>
    /// Plays the browser at an authorize URL: GETs it without following the redirect and returns
    /// the callback's query (<c>code</c>, <c>state</c>, or <c>error</c>).
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, string>> FollowAuthorizeAsync(Uri authorizeUrl)
    {
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var response = await client.GetAsync(authorizeUrl);
        var location = response.Headers.Location ?? throw new InvalidOperationException($"The authorize endpoint answered {(int)response.StatusCode}, not a redirect.");
        return QueryHelpers.ParseQuery(location.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    /// <summary>A redirect to the request's <c>redirect_uri</c> with a code and the echoed state.</summary>
    public static IResult RedirectWithCode(IQueryCollection query, string code) =>
        Results.Redirect(QueryHelpers.AddQueryString(query["redirect_uri"]!, new Dictionary<string, string?> { ["code"] = code, ["state"] = query["state"] }));

    /// <summary>Whether a PKCE verifier matches the S256 challenge sent at authorize (RFC 7636 §4.6).</summary>
    public static bool PkceMatches(string? challenge, string? verifier) =>
        challenge is null || (Pkce.IsValidVerifier(verifier) && Pkce.ComputeChallenge(verifier!) == challenge);

    /// <summary>A random opaque token.</summary>
    public static string NewToken(string prefix = "") => prefix + Base64Url.Encode(RandomNumberGenerator.GetBytes(24));

    /// <summary>A body served as <c>text/html</c>, as QQ serves everything.</summary>
    public static IResult Html(string body) => Results.Text(body, "text/html; charset=utf-8");

    /// <summary>The (id, secret) of an HTTP Basic header, decoded as-is (no form-decoding); null when there is none.</summary>
    public static (string Id, string Secret)? Basic(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return null;
        }

        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]));
        var colon = pair.IndexOf(':');
        return colon < 0 ? null : (pair[..colon], pair[(colon + 1)..]);
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null.</summary>
    public static string? Bearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..] : null;
    }

    /// <summary>Stops the server; requests left hanging are released.</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await app.StopAsync();
        await app.DisposeAsync();
        stopping.Dispose();
    }
}

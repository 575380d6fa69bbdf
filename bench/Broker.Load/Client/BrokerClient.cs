using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;

namespace Broker.Load.Client;

/// <summary>The tenant a run makes: its API key and its one connection, <c>fast</c>, to the fast upstream.</summary>
public sealed record LoadTenant(string Id, string ApiKey, string Connection, string ClientId);

/// <summary>
/// The HTTP side of a browser and of a tenant's back end: one HttpClient over SocketsHttpHandler, never
/// following redirects (each hop is timed on its own), with connections enough for every virtual user.
/// With several silos each request goes to the next silo in turn, as behind a load balancer.
/// </summary>
public sealed class BrokerClient : IDisposable
{
    public const string ReturnUrl = "http://127.0.0.1:9/app/callback";
    private readonly HttpClient _http;
    private readonly Uri[] _silos;
    private readonly Uri _publicBaseUrl;
    private long _next;

    public BrokerClient(IReadOnlyList<Uri> silos, Uri publicBaseUrl)
    {
        _silos = [.. silos];
        _publicBaseUrl = publicBaseUrl;
        _http = Create();
    }

    public static HttpClient Create() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        MaxConnectionsPerServer = 1024,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    public HttpClient Http => _http;

    /// <summary>Creates the tenant (admin token) and its oidc connection to the fast upstream (tenant key).</summary>
    public async Task<LoadTenant> CreateTenantAsync(string adminToken, string upstreamUrl, string clientSecret, CancellationToken cancellationToken)
    {
        var id = "load-" + Guid.NewGuid().ToString("N")[..8];
        using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(Silo(), "/admin/tenants"))
        {
            Content = Json(new JsonObject { ["id"] = id, ["displayName"] = "Load test", ["returnUrls"] = new JsonArray(ReturnUrl) }),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        var created = await SendForJsonAsync(create, HttpStatusCode.Created, cancellationToken);
        var tenant = new LoadTenant(id, (string)created["apiKey"]!, "fast", "load-client");
        using var put = new HttpRequestMessage(HttpMethod.Put, new Uri(Silo(), $"/api/tenants/{id}/connections/{tenant.Connection}"))
        {
            Content = Json(new JsonObject
            {
                ["type"] = "oidc", ["issuer"] = upstreamUrl, ["clientId"] = tenant.ClientId, ["clientSecret"] = clientSecret,
                ["scopes"] = new JsonArray("openid", "profile", "email"), ["tokenEndpointAuthMethod"] = "client_secret_basic",
            }),
        };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
        await SendForJsonAsync(put, HttpStatusCode.Created, cancellationToken);
        return tenant;
    }

    /// <summary>
    /// One complete login as a browser and the app's back end make it: /login -> 302 to the upstream's
    /// authorize -> 302 back to /callback -> 302 to return_to with the hand-off code -> POST exchange.
    /// Each hop is timed to the end of its body. Returns the session id.
    /// </summary>
    public async Task<string> LoginAsync(LoadTenant tenant, Recorder? recorder, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var login = new Uri(Silo(), $"/t/{tenant.Id}/login?connection={tenant.Connection}&return_to={Uri.EscapeDataString(ReturnUrl)}&state=load");
        var authorize = await RedirectAsync("login", login, recorder, cancellationToken);
        var callback = await RedirectAsync("authorize", authorize, recorder, cancellationToken);
        // The upstream sends the browser to the public URL (the first silo); the next silo in turn serves it.
        var back = await RedirectAsync("callback", new Uri(Silo(), callback.PathAndQuery), recorder, cancellationToken);
        var code = HttpUtility.ParseQueryString(back.Query)["code"] ?? throw new HopException("callback", "no-code");
        using var exchange = new HttpRequestMessage(HttpMethod.Post, new Uri(Silo(), $"/api/tenants/{tenant.Id}/sessions/exchange"))
        {
            Content = Json(new JsonObject { ["code"] = code }),
        };
        exchange.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
        var (status, body) = await TimedAsync("exchange", exchange, recorder, cancellationToken);
        if (status != HttpStatusCode.OK)
            throw new HopException("exchange", ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
        recorder?.Add("total", Latency.MillisecondsSince(started));
        return (string)JsonNode.Parse(body)!["sessionId"]!;
    }

    /// <summary>GET .../sessions/{s}/token: a valid upstream access token.</summary>
    public async Task<string> GetTokenAsync(LoadTenant tenant, string sessionId, Recorder? recorder, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Silo(), $"/api/tenants/{tenant.Id}/sessions/{sessionId}/token"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
        var (status, body) = await TimedAsync("token", request, recorder, cancellationToken);
        return status == HttpStatusCode.OK ? body : throw new HopException("token", ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>GET .../sessions/{s}: the session view.</summary>
    public async Task<JsonObject> GetSessionAsync(LoadTenant tenant, string sessionId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Silo(), $"/api/tenants/{tenant.Id}/sessions/{sessionId}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
        return await SendForJsonAsync(request, HttpStatusCode.OK, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    private Uri Silo() => _silos[Interlocked.Increment(ref _next) % _silos.Length];

    private async Task<Uri> RedirectAsync(string hop, Uri url, Recorder? recorder, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        var started = Stopwatch.GetTimestamp();
        using var response = await Send(hop, request, cancellationToken);
        await response.Content.CopyToAsync(Stream.Null, cancellationToken);
        recorder?.Add(hop, Latency.MillisecondsSince(started));
        if (response.StatusCode != HttpStatusCode.Found || response.Headers.Location is not { IsAbsoluteUri: true } location)
            throw new HopException(hop, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        // An error redirect back to the app is a failed login, whatever its status.
        if (location.AbsoluteUri.StartsWith(ReturnUrl, StringComparison.Ordinal) && HttpUtility.ParseQueryString(location.Query)["error"] is { } error)
            throw new HopException(hop, "error=" + error);
        return location;
    }

    private async Task<(HttpStatusCode, string)> TimedAsync(string hop, HttpRequestMessage request, Recorder? recorder, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await Send(hop, request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        recorder?.Add(hop, Latency.MillisecondsSince(started));
        return (response.StatusCode, body);
    }

    private async Task<HttpResponseMessage> Send(string hop, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new HopException(hop, e.HttpRequestError.ToString());
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HopException(hop, "timeout");
        }
    }

    private async Task<JsonObject> SendForJsonAsync(HttpRequestMessage request, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != expected)
            throw new InvalidOperationException($"{request.Method} {request.RequestUri!.AbsolutePath}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body) as JsonObject ?? [];
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Broker.Testing.Processes;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Silo.Tests.EndToEnd;

/// <summary>A real silo process with one tenant, driven through HTTP only, as an app and a browser would.</summary>
internal sealed class BrokerUnderTest : IAsyncDisposable
{
    public const string ReturnUrl = "https://app.example/cb";

    private readonly HttpClient _http;

    private BrokerUnderTest(SiloProcess silo, string tenant, string apiKey)
    {
        Silo = silo;
        Tenant = tenant;
        ApiKey = apiKey;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = silo.BaseAddress };
    }

    public SiloProcess Silo { get; }

    public string Tenant { get; }

    public string ApiKey { get; }

    public string CallbackUrl => new Uri(Silo.BaseAddress, $"/t/{Tenant}/callback").ToString();

    /// <summary>Picks the port first, so the silo's public URL (and the callback registered upstream) is known before it starts.</summary>
    public static int ReservePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A silo on <paramref name="port"/> (Memory storage unless <paramref name="environment"/> says otherwise) with tenant <paramref name="tenant"/>.</summary>
    public static async Task<BrokerUnderTest> StartAsync(int port, string tenant, SiloLaunch? launch = null, IDictionary<string, string?>? environment = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Broker__PublicBaseUrl"] = $"http://127.0.0.1:{port}/",
            ["Broker__AllowHttpUpstreams"] = "true",
            ["Broker__RateLimit__PermitsPerMinute"] = "0",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
            settings[key] = value;
        var silo = await SiloProcess.StartAsync(launch ?? new SiloLaunch(), settings, "--urls", $"http://127.0.0.1:{port}");
        using var admin = new HttpClient { BaseAddress = silo.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SiloProcess.AdminToken);
        using var created = await admin.PostAsJsonAsync("/admin/tenants", new { id = tenant, displayName = "E2E", returnUrls = new[] { ReturnUrl } });
        created.EnsureSuccessStatusCode();
        var apiKey = (await created.Content.ReadFromJsonAsync<JsonObject>())!["apiKey"]!.GetValue<string>();
        return new BrokerUnderTest(silo, tenant, apiKey);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return await _http.SendAsync(request);
    }

    /// <summary>A browser's GET (redirects not followed): a broker path or any absolute URL.</summary>
    public Task<HttpResponseMessage> BrowseAsync(string pathOrUrl) => _http.GetAsync(pathOrUrl);

    public async Task<JsonObject> JsonAsync(HttpMethod method, string path, object? body = null)
    {
        using var response = await SendAsync(method, path, body);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>
    /// The browser's part: /login redirects to the provider, <paramref name="approve"/> plays the user
    /// there and returns the URL the provider sends the browser back to, the broker's callback sends
    /// it on to the app with a code, and the app's back end exchanges the code. Returns the session id.
    /// </summary>
    public async Task<string> LogInAsync(Func<Uri, Task<Uri>> approve)
    {
        using var login = await _http.GetAsync($"/t/{Tenant}/login?return_to={Uri.EscapeDataString(ReturnUrl)}&state=app-state-1");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var callback = await approve(login.Headers.Location!);
        Assert.StartsWith(CallbackUrl, callback.ToString());

        using var back = await _http.GetAsync(callback);
        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        var app = back.Headers.Location!;
        Assert.StartsWith(ReturnUrl + "?", app.ToString());
        var query = QueryHelpers.ParseQuery(app.Query);
        Assert.Equal("app-state-1", query["state"]);

        var exchange = await JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/sessions/exchange", new { code = query["code"].ToString() });
        return exchange["sessionId"]!.GetValue<string>();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Silo.DisposeAsync();
    }
}

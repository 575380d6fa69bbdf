using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Broker.Testing;
using Broker.Testing.Processes;
using Broker.Testing.Upstreams;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Broker.Cluster.Tests;

/// <summary>
/// Several real silo processes over one PostgreSQL database, a fake OIDC provider, and the test
/// playing both the browser and the load balancer in front of the silos.
/// <para>
/// Every silo gets the same <c>Broker__PublicBaseUrl</c>, <see cref="PublicBaseUrl"/>: a name that
/// stands for the load balancer, as in production, where tenants register one callback URL upstream
/// and the redirect_uri sent at the token endpoint must equal the one sent at authorize, whichever
/// silo does each. No silo's own address would do: silos choose their ports at start, and a silo
/// named there could be the one that is killed. The test routes each browser request that goes to
/// <see cref="PublicBaseUrl"/> to a silo of its choosing by swapping the authority.
/// </para>
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    public const string Tenant = "acme";
    public const string ConnectionId = "corp";
    public const string ReturnUrl = "http://app.test/done";
    public static readonly Uri PublicBaseUrl = new("http://broker.cluster.test/");

    /// <summary>Orleans' SiloStatus values in the membership table.</summary>
    public const int Active = 3, Dead = 6;

    private readonly List<SiloProcess> _gone = [];
    private int _users;
    private int _states;

    private readonly CountingHandler _handler;

    private Cluster(TestDatabase database, FakeOidcProvider provider)
    {
        Database = database;
        Provider = provider;
        _handler = new CountingHandler(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 64 });
        Http = new HttpClient(_handler) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public TestDatabase Database { get; }

    public FakeOidcProvider Provider { get; }

    /// <summary>No redirects followed; counts 503 conflict_retry answers.</summary>
    public HttpClient Http { get; }

    public List<SiloProcess> Silos { get; } = [];

    public string ApiKey { get; private set; } = "";

    /// <summary>503 answers with code conflict_retry the test's client received.</summary>
    public int ConflictAnswers => _handler.Conflicts;

    /// <summary>Silos that were stopped or killed, kept for their logs.</summary>
    public IReadOnlyList<SiloProcess> Gone => _gone;

    public static async Task<Cluster> StartAsync(int silos, Action<FakeOidcProvider>? configureProvider = null,
        IReadOnlyList<IDictionary<string, string?>>? perSilo = null)
    {
        var database = await TestDatabase.CreateAsync();
        var provider = await FakeOidcProvider.StartAsync();
        configureProvider?.Invoke(provider);
        var cluster = new Cluster(database, provider);
        provider.NextUser = () =>
        {
            var n = Interlocked.Increment(ref cluster._users);
            return new FakeUser($"user-{n}", $"User {n}", $"user{n}@example.com");
        };
        // The first silo migrates alone; the others start together (they would be safe anyway: advisory lock).
        cluster.Silos.Add(await cluster.StartSiloAsync(perSilo?.ElementAtOrDefault(0)));
        var rest = await Task.WhenAll(Enumerable.Range(1, silos - 1).Select(i => cluster.StartSiloAsync(perSilo?.ElementAtOrDefault(i))));
        cluster.Silos.AddRange(rest);
        await cluster.CreateTenantAsync();
        return cluster;
    }

    public Dictionary<string, string?> Environment(IDictionary<string, string?>? extra = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Broker__Storage"] = "Postgres",
            ["ConnectionStrings__Broker"] = Database.ConnectionString + ";Maximum Pool Size=30",
            ["Broker__AdminToken"] = SiloProcess.AdminToken,
            ["Broker__DataProtection__MasterKey"] = SiloProcess.MasterKey,
            ["Broker__PublicBaseUrl"] = PublicBaseUrl.ToString(),
            ["Broker__AllowHttpUpstreams"] = "true",
            ["Broker__RateLimit__PermitsPerMinute"] = "0",
            ["Broker__DevIdp__Enabled"] = "false",
            ["Broker__Demo__Enabled"] = "false",
            // One line per outbound request and per request served would cost this 2-core machine more
            // than the refreshes themselves; warnings and errors still show.
            ["Logging__LogLevel__System.Net.Http.HttpClient"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            environment[key] = value;
        return environment;
    }

    /// <summary>Starts a silo and scrapes its /metrics once, as Prometheus would shortly after a pod
    /// starts: a silo's exporter only counts from its first scrape (see
    /// <see cref="PostgresMetricsFromStartTests"/>), so without it early deliveries would go uncounted.</summary>
    public async Task<SiloProcess> StartSiloAsync(IDictionary<string, string?>? extra = null)
    {
        var silo = await SiloProcess.StartAsync(Environment(extra));
        using var metrics = await Http.GetAsync(new Uri(silo.BaseAddress, "/metrics"));
        return silo;
    }

    /// <summary>The sessions whose refresh <paramref name="silo"/> has claimed (the claim names the silo's
    /// runtime identity, which carries its silo port) and not yet finished: those whose refresh token a
    /// kill of that silo can cost.</summary>
    public async Task<List<string>> RefreshesClaimedByAsync(SiloProcess silo)
    {
        await using var dataSource = Database.CreateDataSource();
        await using var command = dataSource.CreateCommand("""
            SELECT substr(grainidextensionstring, 3) FROM orleansstorage
            WHERE graintypestring = 'session' AND payloadbinary IS NOT NULL
              AND convert_from(payloadbinary, 'UTF8')::jsonb ->> 'refreshLeaseOwner' LIKE $1
            """);
        command.Parameters.Add(new() { Value = $"%:{silo.SiloPort}:%" });
        var sessions = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            sessions.Add(reader.GetString(0));
        return sessions;
    }

    /// <summary>The silo's status in the Orleans membership table (3 Active, 6 Dead), or null before it joined.</summary>
    public async Task<int?> MembershipStatusAsync(SiloProcess silo)
    {
        await using var dataSource = Database.CreateDataSource();
        await using var command = dataSource.CreateCommand("SELECT status FROM orleansmembershiptable WHERE port = $1 ORDER BY generation DESC LIMIT 1");
        command.Parameters.Add(new() { Value = silo.SiloPort });
        return await command.ExecuteScalarAsync() as int?;
    }

    /// <summary>Takes a silo out of <see cref="Silos"/> (its process object is kept for its log).</summary>
    public void Remove(SiloProcess silo)
    {
        Silos.Remove(silo);
        _gone.Add(silo);
    }

    public string AllLogs() => string.Join('\n', Silos.Concat(_gone).Select(s => s.StandardOutput + s.StandardError));

    private async Task CreateTenantAsync()
    {
        var silo = Silos[0].BaseAddress;
        using var create = Admin(HttpMethod.Post, new Uri(silo, "/admin/tenants"),
            new JsonObject { ["id"] = Tenant, ["displayName"] = "Acme", ["returnUrls"] = new JsonArray(ReturnUrl) });
        using var created = await SendOkAsync(create);
        ApiKey = (await created.Content.ReadFromJsonAsync<JsonObject>())!["apiKey"]!.GetValue<string>();

        using var put = Api(HttpMethod.Put, new Uri(silo, $"/api/tenants/{Tenant}/connections/{ConnectionId}"), new JsonObject
        {
            ["type"] = "oidc",
            ["issuer"] = Provider.Issuer,
            ["clientId"] = Provider.ClientId,
            ["clientSecret"] = Provider.ClientSecret,
            ["scopes"] = new JsonArray("openid", "profile", "email"),
        });
        using var _ = await SendOkAsync(put);
    }

    /// <summary>PATCHes the tenant's session policy (docs/design.md §6).</summary>
    public async Task SetRefreshLeadAsync(int seconds)
    {
        using var patch = Api(HttpMethod.Patch, new Uri(Silos[0].BaseAddress, $"/api/tenants/{Tenant}"),
            new JsonObject { ["sessionPolicy"] = new JsonObject { ["refreshLeadSeconds"] = seconds } });
        using var _ = await SendOkAsync(patch);
    }

    /// <summary>Begins a login at <paramref name="login"/>, lets the fake provider approve it, and returns
    /// the callback URL routed to <paramref name="callback"/> (not yet requested).</summary>
    public async Task<Uri> BeginLoginAsync(SiloProcess login, SiloProcess callback)
    {
        var appState = $"s{Interlocked.Increment(ref _states)}";
        using var begun = await Http.GetAsync(new Uri(login.BaseAddress, $"/t/{Tenant}/login?return_to={Uri.EscapeDataString(ReturnUrl)}&state={appState}"));
        if (begun.StatusCode != HttpStatusCode.Redirect || begun.Headers.Location is not { } authorize || !authorize.AbsoluteUri.StartsWith(Provider.Issuer, StringComparison.Ordinal))
            throw new InvalidOperationException($"login on {login.BaseAddress} answered {(int)begun.StatusCode} {begun.Headers.Location}: {await begun.Content.ReadAsStringAsync()}");
        using var approved = await Http.GetAsync(authorize);
        var back = approved.Headers.Location ?? throw new InvalidOperationException($"authorize answered {(int)approved.StatusCode}");
        if (!back.AbsoluteUri.StartsWith(PublicBaseUrl.AbsoluteUri, StringComparison.Ordinal))
            throw new InvalidOperationException($"The provider sent the browser to {back}, not to the broker's public URL.");
        return Route(back, callback);
    }

    /// <summary>The load balancer: the same path and query, on one silo's address.</summary>
    public static Uri Route(Uri publicUrl, SiloProcess silo) => new(silo.BaseAddress, publicUrl.PathAndQuery);

    /// <summary>GETs a callback URL; returns the hand-off code from the redirect to the app.</summary>
    public async Task<string> CompleteCallbackAsync(Uri callback)
    {
        using var done = await Http.GetAsync(callback);
        var location = done.Headers.Location;
        if (done.StatusCode != HttpStatusCode.Redirect || location is null || !location.AbsoluteUri.StartsWith(ReturnUrl + "?", StringComparison.Ordinal))
            throw new InvalidOperationException($"callback {callback} answered {(int)done.StatusCode} {location}: {await done.Content.ReadAsStringAsync()}");
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(location.Query);
        return query.TryGetValue("code", out var code) ? code.ToString() : throw new InvalidOperationException($"The app got {location} instead of a code.");
    }

    public async Task<string> ExchangeAsync(SiloProcess silo, string code)
    {
        using var request = Api(HttpMethod.Post, new Uri(silo.BaseAddress, $"/api/tenants/{Tenant}/sessions/exchange"), new JsonObject { ["code"] = code });
        using var response = await SendOkAsync(request);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["sessionId"]!.GetValue<string>();
    }

    /// <summary>A whole login: begun on <paramref name="login"/>, called back on <paramref name="callback"/>,
    /// exchanged on <paramref name="exchange"/>. Returns the session id.</summary>
    public async Task<string> LoginAsync(SiloProcess login, SiloProcess callback, SiloProcess exchange) =>
        await ExchangeAsync(exchange, await CompleteCallbackAsync(await BeginLoginAsync(login, callback)));

    public async Task<JsonObject> GetSessionAsync(SiloProcess silo, string sessionId)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = Api(HttpMethod.Get, new Uri(silo.BaseAddress, $"/api/tenants/{Tenant}/sessions/{sessionId}"));
            using var response = await Http.SendAsync(request);
            // 503 conflict_retry says "nothing changed, retry" (docs/api.md); counted by the handler.
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 5)
            {
                await Task.Delay(200);
                continue;
            }
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException($"GET session answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        }
    }

    public async Task<string> MetricsAsync(SiloProcess silo)
    {
        using var response = await Http.GetAsync(new Uri(silo.BaseAddress, "/metrics"));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    public HttpRequestMessage Api(HttpMethod method, Uri uri, JsonObject? body = null) => Bearer(method, uri, ApiKey, body);

    public static HttpRequestMessage Admin(HttpMethod method, Uri uri, JsonObject? body = null) => Bearer(method, uri, SiloProcess.AdminToken, body);

    private static HttpRequestMessage Bearer(HttpMethod method, Uri uri, string token, JsonObject? body)
    {
        var request = new HttpRequestMessage(method, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        return request;
    }

    private async Task<HttpResponseMessage> SendOkAsync(HttpRequestMessage request)
    {
        var response = await Http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{request.Method} {request.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Silos.Concat(_gone).Select(s => s.DisposeAsync().AsTask()));
        Http.Dispose();
        await Provider.DisposeAsync();
        await Database.DisposeAsync();
    }

    /// <summary>Counts 503 conflict_retry answers (docs/design.md §2: a lost race changes nothing and says so).</summary>
    private sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private int _conflicts;

        public int Conflicts => Volatile.Read(ref _conflicts);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                if ((await response.Content.ReadAsStringAsync(cancellationToken)).Contains("conflict_retry", StringComparison.Ordinal))
                    Interlocked.Increment(ref _conflicts);
            }
            return response;
        }
    }
}

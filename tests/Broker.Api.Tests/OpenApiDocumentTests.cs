using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.DevIdp;
using Broker.Api.Tests.Support;
using Broker.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Broker.Api.Tests;

/// <summary>
/// The OpenAPI document against the routes: every REST and browser route is in it, described, and every
/// status it declares is one a request really gets — each (operation, status) pair here has a request that
/// answers it, and no pair is declared without one.
/// </summary>
public sealed class OpenApiDocumentTests : IDisposable
{
    // Access tokens that expire at once, so that a refresh that cannot reach the provider shows as a 503.
    private readonly BrokerTestHost _host = new(services: s => s.AddSingleton(Options.Create(new DevIdpOptions
    {
        Enabled = true,
        AccessTokenLifetime = TimeSpan.FromSeconds(2),
        BrokerBaseUrl = new Uri(BrokerTestHost.PublicBaseUrl),
    })));

    // Budgets of one a minute, for the 429s.
    private readonly BrokerTestHost _limitedHost = new(new Dictionary<string, string?>
    {
        ["Broker:RateLimit:PermitsPerMinute"] = "1",
        ["Broker:RateLimit:ExchangePermitsPerMinute"] = "1",
    });

    private readonly TestApi _api;
    private readonly TestApi _limited;
    private int _clients;

    public OpenApiDocumentTests() => (_api, _limited) = (new TestApi(_host), new TestApi(_limitedHost));

    public void Dispose()
    {
        _api.Dispose();
        _limited.Dispose();
        _host.Dispose();
        _limitedHost.Dispose();
    }

    [Fact]
    public async Task Every_route_is_described_and_every_declared_status_is_one_a_request_gets()
    {
        var document = await DocumentAsync();
        var operations = Operations(document).Where(o => o.Method != "HEAD").ToList(); // HEAD answers as GET does
        var routes = _host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName).OfType<string>()
            .Where(ApiDescriptions.Names.Contains).ToHashSet();
        Assert.Equal(routes.Order(StringComparer.Ordinal), operations.Select(o => o.Name).Distinct().Order(StringComparer.Ordinal));
        foreach (var operation in operations)
        {
            Assert.False(string.IsNullOrEmpty(operation.Json["summary"]?.GetValue<string>()), operation.Name);
            Assert.Equal(operation.Path.StartsWith("/t/", StringComparison.Ordinal), operation.Json["security"] is null);
        }

        var world = await World.CreateAsync(_api);
        var declared = operations.SelectMany(o => o.Statuses.Select(status => (o, status))).ToList();
        var missing = new List<string>();
        foreach (var (operation, status) in declared)
        {
            using var response = await WitnessAsync(operation, status, world);
            if (response is null)
                missing.Add($"{operation.Name} {status}: no request here gets it");
            else if ((int)response.StatusCode != status)
                missing.Add($"{operation.Name} {status}: the request got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        Assert.True(missing.Count == 0, string.Join('\n', missing));
    }

    /// <summary>A request for one declared status of one operation; null when the test knows none.</summary>
    private async Task<HttpResponseMessage?> WitnessAsync(Operation op, int status, World w)
    {
        var method = new HttpMethod(op.Method);
        string Path(string? tenant = null, string? session = null) => op.Path
            .Replace("{tenant}", tenant ?? w.Tenant.Id).Replace("{connection}", "dev")
            .Replace("{session}", session ?? w.SessionId).Replace("{user}", w.UserId).Replace("{key}", w.KeyId).Replace("{subject}", "carol").Replace("{client}", "app");
        object? Body() => op.Name switch
        {
            "CreateTenant" => new { id = TestApi.NewId(), displayName = "X", returnUrls = Array.Empty<string>() },
            "PatchTenant" => new { displayName = "Renamed" },
            "PutConnection" => new { type = "dev", clientId = $"client-{w.Tenant.Id}", clientSecret = "dev-secret" },
            "CallUpstream" => new { method = "GET", path = "userinfo" },
            "PatchUser" => new { blocked = false },
            "CreateLink" => new { connection = "dev" },
            "PutClient" => new { redirectUris = new[] { "https://app.example/cb" } },
            _ => null,
        };
        var bearer = op.Path.StartsWith("/admin", StringComparison.Ordinal) ? TestApi.Admin : w.Tenant.ApiKey;
        var big = new string(' ', 65 * 1024) + "{}";
        Task<HttpResponseMessage> Send(string path, string? token, object? body = null) => _api.SendAsync(method, path, token, body, NextClient());

        if (op.Path.StartsWith("/t/", StringComparison.Ordinal))
            return await BrowserWitnessAsync(op, status, w);
        return (op.Name, status) switch
        {
            // A code is checked before the bearer: only a good one reaches the 401.
            ("ExchangeCode", 401) => await Send(Path(), null, new { code = await w.FreshCodeAsync() }),
            ("ExchangeCode", 404) => await Send(Path(tenant: TestApi.NewId()), TestApi.Admin, new { code = "unknown" }),
            // An answer larger than the proxy takes: the API reference's script, 5 MB, as the "provider's API".
            ("CallUpstream", 502) => await Send(Path(w.Broken.Id, w.BrokenSessionId), w.Broken.ApiKey, new { method = "GET", path = "scalar.js" }),
            (_, 400) when op.Path.Contains("{tenant}") => await Send(Path(tenant: "Bad_Tenant"), bearer, Body()),
            ("CreateTenant", 400) => await Send(op.Path, bearer, new { id = "Bad_Tenant", displayName = "X", returnUrls = Array.Empty<string>() }),
            ("ListTenants", 400) => await Send(op.Path + "?limit=0", bearer),
            (_, 401) => await Send(Path(), null, Body()),
            (_, 404) => await Send(Path(tenant: TestApi.NewId()), TestApi.Admin, Body()),
            (_, 413) => await Send(Path(), bearer, big),
            ("CreateTenant", 409) => await Send(op.Path, bearer, new { id = w.Tenant.Id, displayName = "X", returnUrls = Array.Empty<string>() }),
            ("AddApiKey", 409) => await RepeatAsync(() => Send(Path(tenant: w.Spare.Id), bearer), HttpStatusCode.Conflict),
            ("PatchTenant", 409) => await Send(Path(), bearer, "{\"returnUrls\":[" + string.Join(',', Enumerable.Range(0, 51).Select(i => $"\"https://a.example/{i}\"")) + "]}"),
            ("PutConnection", 409) => await RepeatAsync(() => _api.SendAsync(method, $"/api/tenants/{w.Spare.Id}/connections/c{Guid.NewGuid():N}", w.Spare.ApiKey, Body()), HttpStatusCode.Conflict),
            ("GetSessionToken" or "RefreshSession" or "CallUpstream" or "IntrospectSession" or "CreateLink", 409) => await Send(Path(session: w.EndedSessionId), bearer, Body()),
            ("PutClient", 201) => await Send(Path().Replace("/app", $"/fresh-{Guid.NewGuid():N}"), bearer, Body()),
            ("PutClient", 409) => await RepeatAsync(() => _api.SendAsync(method, $"/api/tenants/{w.Spare.Id}/clients/c{Guid.NewGuid():N}", w.Spare.ApiKey, Body()), HttpStatusCode.Conflict, times: 110),
            ("DeleteClient", 204) => await Send(Path().Replace("/app", "/old"), bearer),
            ("RotateClientSecret", 409) => await Send(Path().Replace("/app", "/spa"), bearer),
            ("UnlinkIdentity", 409) => await Send(Path(), bearer), // carol's only identity
            ("UnlinkIdentity", 204) => await Send(await w.UserWithTwoIdentitiesAsync(), w.Spare.ApiKey),
            ("DeleteUser", 204) => await Send(Path().Replace(w.UserId, (await _api.SignInAndExchangeAsync(w.Tenant, "jill")).Exchange["user"]!["id"]!.GetValue<string>()), bearer),
            ("CreateLink", 503) => await Send(Path(w.Broken.Id, w.BrokenSessionId), w.Broken.ApiKey, new { connection = "gone" }),
            ("IntrospectSession", 503) => await Send(Path(w.Broken.Id, w.BrokenSessionId), w.Broken.ApiKey),
            ("GetSessionToken" or "RefreshSession", 503) => await Eventually503Async(() => Send(Path(w.Broken.Id, w.BrokenSessionId), w.Broken.ApiKey)),
            ("ExchangeCode", 200) => await Send(Path(), bearer, new { code = await w.FreshCodeAsync() }),
            ("ExchangeCode", 429) => await ExchangeOverBudgetAsync(),
            ("PutConnection", 200) => await Send(Path(), bearer, Body()),
            ("PutConnection", 201) => await Send($"/api/tenants/{w.Spare.Id}/connections/fresh", w.Spare.ApiKey, Body()),
            ("DeleteConnection", 204) => await Send($"/api/tenants/{w.Spare.Id}/connections/third", w.Spare.ApiKey),
            ("DeleteTenant", 204) => await Send(Path(tenant: (await _api.CreateTenantAsync()).Id), bearer),
            ("DeleteApiKey", 204) => await Send(Path().Replace(w.KeyId, w.SpareKeyId), bearer),
            ("DeleteSession", 204) => await Send(Path(session: (await _api.SignInAndExchangeAsync(w.Tenant, "dora")).SessionId), bearer),
            ("EndUserSessions", 204) => await Send(Path().Replace(w.UserId, (await _api.SignInAndExchangeAsync(w.Tenant, "ivy")).Exchange["user"]!["id"]!.GetValue<string>()), bearer),
            (_, 200 or 201) => await Send(Path(), bearer, Body()),
            _ => null,
        };
    }

    private async Task<HttpResponseMessage?> BrowserWitnessAsync(Operation op, int status, World w)
    {
        var login = QueryHelpers.AddQueryString($"/t/{w.Tenant.Id}/login", "connection", "dev");
        return (op.Name, status) switch
        {
            (_, 400) => await _api.GetAsync(op.Path.Replace("{tenant}", "Bad_Tenant") + "?state=" + new string('A', 43), NextClient()),
            (_, 404) => await _api.GetAsync(op.Path.Replace("{tenant}", TestApi.NewId()) + "?state=" + new string('A', 43), NextClient()),
            ("Login", 200) => await _api.GetAsync($"/t/{w.Spare.Id}/login", NextClient()), // two connections: the chooser
            ("Login", 302) => await _api.GetAsync(login, NextClient()),
            ("Login", 429) => await OverBudgetAsync(tenant => QueryHelpers.AddQueryString($"/t/{tenant}/login", "connection", "dev")),
            ("Callback", 302) => await w.CallbackAsync(NextClient()),
            ("Callback", 429) => await OverBudgetAsync(tenant => $"/t/{tenant}/callback?state=" + new string('A', 43)),
            ("Logout", 302) => await _api.GetAsync(QueryHelpers.AddQueryString($"/t/{w.Tenant.Id}/logout", "return_to", w.Tenant.ReturnUrl), NextClient()),
            _ => null,
        };
    }

    private async Task<HttpResponseMessage> OverBudgetAsync(Func<string, string> path)
    {
        var tenant = await _limited.CreateTenantAsync();
        await _limited.PutDevConnectionAsync(tenant);
        var client = NextClient();
        (await _limited.GetAsync(path(tenant.Id), client)).Dispose();
        return await _limited.GetAsync(path(tenant.Id), client);
    }

    private async Task<HttpResponseMessage> ExchangeOverBudgetAsync()
    {
        var tenant = await _limited.CreateTenantAsync();
        await _limited.PutDevConnectionAsync(tenant);
        var first = TestApi.Param(await _limited.SignInAsync(tenant, clientIp: NextClient()), "code");
        var second = TestApi.Param(await _limited.SignInAsync(tenant, clientIp: NextClient()), "code");
        (await _limited.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/exchange", tenant.ApiKey, new { code = first })).Dispose();
        return await _limited.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/exchange", tenant.ApiKey, new { code = second });
    }

    private static async Task<HttpResponseMessage> RepeatAsync(Func<Task<HttpResponseMessage>> send, HttpStatusCode until, int times = 60)
    {
        for (var i = 0; i < times; i++)
        {
            var response = await send();
            if (response.StatusCode == until)
                return response;
            response.Dispose();
        }
        return await send();
    }

    /// <summary>The access token of the broken session expires within seconds; then the refresh fails and the answer is 503.</summary>
    private static async Task<HttpResponseMessage> Eventually503Async(Func<Task<HttpResponseMessage>> send)
    {
        HttpResponseMessage? last = null;
        await Eventually.HoldsAsync(async () =>
        {
            last?.Dispose();
            last = await send();
            return last.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, "a 503 once the token expired and its refresh cannot reach the provider", TimeSpan.FromSeconds(20));
        return last!;
    }

    // Each request its own client address, so the tiny login budgets only bite where a witness wants them to.
    private string NextClient() => $"10.9.{++_clients / 250}.{_clients % 250 + 1}";

    private async Task<JsonObject> DocumentAsync()
    {
        using var response = await _api.GetAsync("/openapi/v1.json");
        return await TestApi.ReadJsonAsync(response);
    }

    private sealed record Operation(string Name, string Method, string Path, int[] Statuses, JsonObject Json);

    private static IEnumerable<Operation> Operations(JsonObject document) =>
        from path in document["paths"]!.AsObject()
        from op in path.Value!.AsObject()
        let json = op.Value!.AsObject()
        select new Operation(
            json["operationId"]!.GetValue<string>(), op.Key.ToUpperInvariant(), path.Key,
            [.. json["responses"]!.AsObject().Select(r => int.Parse(r.Key, System.Globalization.CultureInfo.InvariantCulture))], json);

    /// <summary>What the witnesses act on: a tenant with a dev connection and a session, one ended session,
    /// one whose provider cannot be reached, a spare tenant with three connections (a chooser) to fill up.</summary>
    private sealed record World(TestTenant Tenant, string SessionId, string UserId, string KeyId, string SpareKeyId, TestTenant Spare,
        string EndedSessionId, TestTenant Broken, string BrokenSessionId, Func<Task<string>> FreshCodeAsync, Func<string, Task<HttpResponseMessage>> CallbackAsync,
        Func<Task<string>> UserWithTwoIdentitiesAsync)
    {
        public static async Task<World> CreateAsync(TestApi api)
        {
            var tenant = await api.CreateTenantAsync();
            await api.PutDevConnectionAsync(tenant);
            var (session, exchange) = await api.SignInAndExchangeAsync(tenant, "carol");
            var (ended, _) = await api.SignInAndExchangeAsync(tenant, "erin");
            (await api.SendAsync(HttpMethod.Delete, $"/api/tenants/{tenant.Id}/sessions/{ended}", tenant.ApiKey)).Dispose();
            var spareKey = await api.SendAsync(HttpMethod.Post, $"/admin/tenants/{tenant.Id}/api-keys", TestApi.Admin);
            var spareKeyId = (await TestApi.ReadJsonAsync(spareKey))["apiKey"]!.GetValue<string>().Split('.')[1];

            // A tenant whose provider stops answering usably once its session exists: its token endpoint is
            // gone (the test host sends every outbound call to the broker itself) and its API answers too much.
            var broken = await api.CreateTenantAsync();
            await api.PutDevConnectionAsync(broken);
            var (brokenSession, _) = await api.SignInAndExchangeAsync(broken, "fay");
            (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{broken.Id}/connections/dev", broken.ApiKey, new
            {
                type = "dev", clientId = "c",
                endpoints = new { token = "http://127.0.0.1:9/token", userinfo = "http://127.0.0.1:9/userinfo", introspection = "http://127.0.0.1:9/introspect" },
                apiBaseUrl = "http://localhost/docs/",
            })).EnsureSuccessStatusCode();
            (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/app", tenant.ApiKey, new { redirectUris = new[] { "https://app.example/cb" } })).EnsureSuccessStatusCode();
            (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/spa", tenant.ApiKey, new { redirectUris = new[] { "https://app.example/cb" }, tokenEndpointAuthMethod = "none" })).EnsureSuccessStatusCode();
            (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/old", tenant.ApiKey, new { redirectUris = new[] { "https://app.example/cb" } })).EnsureSuccessStatusCode();
            // A provider whose discovery cannot be reached: a login (or a link) cannot begin there.
            (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{broken.Id}/connections/gone", broken.ApiKey, new
            {
                type = "oidc", clientId = "c", clientSecret = "s", issuer = "http://127.0.0.1:9",
            })).EnsureSuccessStatusCode();

            var spare = await api.CreateTenantAsync();
            await api.PutDevConnectionAsync(spare);
            await api.PutDevConnectionAsync(spare, "second");
            await api.PutDevConnectionAsync(spare, "third");
            return new World(tenant, session, exchange["user"]!["id"]!.GetValue<string>(), tenant.ApiKey.Split('.')[1], spareKeyId, spare,
                ended, broken, brokenSession,
                async () => TestApi.Param(await api.SignInAsync(tenant, "gina"), "code")!,
                async client =>
                {
                    var login = await api.GetAsync(QueryHelpers.AddQueryString($"/t/{tenant.Id}/login", "connection", "dev"), client);
                    var back = await api.ApproveAtDevIdpAsync(login.Headers.Location!, "hana");
                    return await api.GetAsync(back.PathAndQuery, client);
                },
                // Signs in at the spare tenant's first connection and links its second: the path of the second identity.
                async () =>
                {
                    using var login = await api.GetAsync(QueryHelpers.AddQueryString($"/t/{spare.Id}/login", "connection", "dev"));
                    using var toApp = await api.GetAsync((await api.ApproveAtDevIdpAsync(login.Headers.Location!, "kim")).PathAndQuery);
                    using var exchanged = await api.SendAsync(HttpMethod.Post, $"/api/tenants/{spare.Id}/sessions/exchange", spare.ApiKey, new { code = TestApi.Param(toApp.Headers.Location!, "code") });
                    var exchange = await TestApi.ReadJsonAsync(exchanged);
                    using var link = await api.SendAsync(HttpMethod.Post, $"/api/tenants/{spare.Id}/sessions/{exchange["sessionId"]}/links", spare.ApiKey, new { connection = "second" });
                    var loginUrl = new Uri((await TestApi.ReadJsonAsync(link))["loginUrl"]!.GetValue<string>());
                    using var linked = await api.GetAsync((await api.ApproveAtDevIdpAsync(loginUrl, "kim")).PathAndQuery);
                    return $"/api/tenants/{spare.Id}/users/{exchange["user"]!["id"]}/identities/second/kim";
                });
        }
    }
}

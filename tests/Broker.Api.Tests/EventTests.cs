using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>GET /api/tenants/{t}/events: what happened to a tenant, as it happened, newest first.</summary>
public sealed class EventTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task Each_change_and_login_is_an_event_newest_first_with_no_secret_token_or_code()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var key = (await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Post, $"/admin/tenants/{tenant.Id}/api-keys", TestApi.Admin)))["apiKey"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{tenant.Id}/api-keys/{key.Split('.')[1]}", TestApi.Admin)).StatusCode);
        var (session, exchange) = await api.SignInAndExchangeAsync(tenant, "sam");
        var userId = exchange["user"]!["id"]!.GetValue<string>();
        using (var login = await api.GetAsync($"/t/{tenant.Id}/login?state=s"))
            await api.GetAsync((await api.ApproveAtDevIdpAsync(login.Headers.Location!, "", action: "deny")).PathAndQuery);
        Assert.Equal(HttpStatusCode.NoContent, (await api.SendAsync(HttpMethod.Delete, $"/api/tenants/{tenant.Id}/sessions/{session}", tenant.ApiKey)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await api.SendAsync(HttpMethod.Delete, $"/api/tenants/{tenant.Id}/connections/dev", tenant.ApiKey)).StatusCode);

        var page = await EventsAsync(tenant, "");
        var items = page["items"]!.AsArray();

        Assert.Equal(
            ["connection_deleted", "session_ended", "login_failed", "login_succeeded", "api_key_deleted", "api_key_created", "connection_changed"],
            items.Select(e => e!["type"]!.GetValue<string>()));
        var succeeded = items.Single(e => e!["type"]!.GetValue<string>() == "login_succeeded")!;
        Assert.Equal(("dev", userId, session), (succeeded["connection"]!.GetValue<string>(), succeeded["userId"]!.GetValue<string>(), succeeded["sessionId"]!.GetValue<string>()));
        var failed = items.Single(e => e!["type"]!.GetValue<string>() == "login_failed")!["detail"]!;
        Assert.Equal(("access_denied", "access_denied", "The user denied the request."),
            (failed["error"]!.GetValue<string>(), failed["providerError"]!.GetValue<string>(), failed["description"]!.GetValue<string>()));
        Assert.Equal("logout", items.Single(e => e!["type"]!.GetValue<string>() == "session_ended")!["detail"]!["reason"]!.GetValue<string>());
        Assert.Equal(key.Split('.')[1], items.Single(e => e!["type"]!.GetValue<string>() == "api_key_created")!["detail"]!["keyId"]!.GetValue<string>());
        var text = page.ToJsonString();
        Assert.DoesNotContain("dev-secret", text);
        Assert.DoesNotContain(key, text);
        Assert.Null(page["nextBefore"]);
    }

    [Fact]
    public async Task Filters_combine_and_pages_follow_next_before()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var (_, first) = await api.SignInAndExchangeAsync(tenant, "tess");
        await api.PutDevConnectionAsync(tenant, "second");
        await api.SendAsync(HttpMethod.Delete, $"/api/tenants/{tenant.Id}/connections/second", tenant.ApiKey);
        var userId = first["user"]!["id"]!.GetValue<string>();

        Assert.Equal(["connection_changed"], Types(await EventsAsync(tenant, "?type=connection_changed&connection=second")));
        Assert.Equal(["login_succeeded"], Types(await EventsAsync(tenant, $"?user={userId}")));
        Assert.Empty(Types(await EventsAsync(tenant, "?type=login_failed")));

        var all = Types(await EventsAsync(tenant, ""));
        var seen = new List<string>();
        var query = "?limit=2";
        while (true)
        {
            var page = await EventsAsync(tenant, query);
            seen.AddRange(Types(page));
            if (page["nextBefore"]?.GetValue<string>() is not { } next)
                break;
            query = $"?limit=2&before={next}";
        }
        Assert.Equal(all, seen);
    }

    [Theory]
    [InlineData("?type=nothing", "type")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=501", "limit")]
    [InlineData("?before=abc", "before")]
    [InlineData("?connection=Bad_Id", "connection")]
    [InlineData("?user=not-a-user", "user")]
    [InlineData("?type=login_failed&type=login_succeeded", "type")]
    public async Task A_malformed_filter_is_a_400_naming_it(string query, string name)
    {
        var tenant = await api.CreateTenantAsync();

        var problem = await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/events{query}", tenant.ApiKey), HttpStatusCode.BadRequest);

        Assert.Contains(name, problem.ToJsonString());
    }

    [Fact]
    public async Task Another_tenants_key_sees_nothing()
    {
        var (tenant, other) = (await api.CreateTenantAsync(), await api.CreateTenantAsync());
        await api.PutDevConnectionAsync(tenant);

        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/events", other.ApiKey), HttpStatusCode.NotFound);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/events", null), HttpStatusCode.Unauthorized);
    }

    private async Task<JsonObject> EventsAsync(TestTenant tenant, string query)
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/events{query}", tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await TestApi.ReadJsonAsync(response);
    }

    private static List<string> Types(JsonObject page) => [.. page["items"]!.AsArray().Select(e => e!["type"]!.GetValue<string>())];

    public void Dispose() => api.Dispose();
}

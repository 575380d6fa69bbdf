using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;
using Broker.Testing;

namespace Broker.Api.Tests;

/// <summary>docs/design.md §5: deleting a tenant ends every session of it at once, revokes their tokens
/// upstream in the background, and a tenant created later under the same id sees nothing of it.</summary>
public sealed class TenantDeletionTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task A_tenant_created_again_under_a_deleted_ones_id_sees_none_of_its_sessions_users_or_connections()
    {
        var id = TestApi.NewId("del");
        var first = await CreateAsync(id);
        await api.PutDevConnectionAsync(first);
        var (sessionId, exchange) = await api.SignInAndExchangeAsync(first, "victim");
        var userId = exchange["user"]!["id"]!.GetValue<string>();
        var upstreamToken = await UpstreamTokenAsync(first, sessionId);
        Assert.True(await IsActiveAtDevIdpAsync(upstreamToken));

        using (var deleted = await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{id}", TestApi.Admin))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        // At once: the old key is refused, and nothing answers with the session.
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{id}/sessions/{sessionId}/token", first.ApiKey), HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{id}/sessions/{sessionId}/token", TestApi.Admin), HttpStatusCode.NotFound);

        var second = await CreateAsync(id);
        foreach (var path in new[]
        {
            $"/api/tenants/{id}/sessions/{sessionId}", $"/api/tenants/{id}/sessions/{sessionId}/token",
            $"/api/tenants/{id}/users/{userId}/sessions",
        })
        {
            foreach (var bearer in new[] { second.ApiKey, TestApi.Admin })
                await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, path, bearer), HttpStatusCode.NotFound, "not_found");
        }
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, $"/api/tenants/{id}/sessions/{sessionId}/refresh", second.ApiKey), HttpStatusCode.NotFound);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"/api/tenants/{id}/users/{userId}/sessions", second.ApiKey), HttpStatusCode.NotFound);
        using var connections = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{id}/connections", second.ApiKey);
        Assert.Empty((await TestApi.ReadJsonAsync(connections))["items"]!.AsArray());

        // The same person signing in to the new tenant is a new user, with only the new session.
        await api.PutDevConnectionAsync(second);
        var (newSession, newExchange) = await api.SignInAndExchangeAsync(second, "victim");
        var newUserId = newExchange["user"]!["id"]!.GetValue<string>();
        Assert.NotEqual(userId, newUserId);
        using var sessions = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{id}/users/{newUserId}/sessions", second.ApiKey);
        Assert.Equal([newSession], (await TestApi.ReadJsonAsync(sessions))["items"]!.AsArray().Select(s => s!["sessionId"]!.GetValue<string>()));

        // In the background, the deleted tenant's session has its upstream tokens revoked.
        await Eventually.HoldsAsync(async () => !await IsActiveAtDevIdpAsync(upstreamToken), "the deleted tenant's upstream token revoked");
    }

    [Fact]
    public async Task A_login_begun_before_the_tenant_was_deleted_cannot_complete_into_the_new_tenant()
    {
        var id = TestApi.NewId("del");
        var first = await CreateAsync(id);
        await api.PutDevConnectionAsync(first);
        using var toProvider = await api.GetAsync($"/t/{id}/login?return_to={Uri.EscapeDataString(first.ReturnUrl)}");
        Assert.Equal(HttpStatusCode.Redirect, toProvider.StatusCode);
        var callback = await api.ApproveAtDevIdpAsync(toProvider.Headers.Location!, "bob");

        using (var deleted = await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{id}", TestApi.Admin))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var second = await CreateAsync(id);
        await api.PutDevConnectionAsync(second);

        using var toApp = await api.GetAsync(callback.PathAndQuery);
        await TestApi.AssertErrorPageAsync(toApp, HttpStatusCode.BadRequest);
    }

    private async Task<TestTenant> CreateAsync(string id)
    {
        var returnUrl = $"https://{id}.example/cb";
        using var created = await api.SendAsync(HttpMethod.Post, "/admin/tenants", TestApi.Admin, new { id, displayName = "Deletable", returnUrls = new[] { returnUrl } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return new TestTenant(id, (await TestApi.ReadJsonAsync(created))["apiKey"]!.GetValue<string>(), returnUrl);
    }

    private async Task<string> UpstreamTokenAsync(TestTenant tenant, string sessionId)
    {
        using var token = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{sessionId}/token", tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        return (await TestApi.ReadJsonAsync(token))["accessToken"]!.GetValue<string>();
    }

    private async Task<bool> IsActiveAtDevIdpAsync(string accessToken)
    {
        using var answer = await api.Http.PostAsync("/dev-idp/introspect", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = accessToken,
            ["client_id"] = "anyone",
        }));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["active"]!.GetValue<bool>();
    }

    public void Dispose() => api.Dispose();
}

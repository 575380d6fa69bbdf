using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>docs/design.md §5: what one tenant may hold; past it 409 <c>limit_reached</c> and nothing changes.</summary>
public sealed class TenantLimitsTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task A_tenant_holds_at_most_50_connections_and_may_still_replace_them()
    {
        var tenant = await api.CreateTenantAsync();
        for (var i = 0; i < 50; i++)
            await api.PutDevConnectionAsync(tenant, $"c{i}");

        using var refused = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/c50", tenant.ApiKey, new { type = "dev" });
        using var replaced = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/c7", tenant.ApiKey, new { type = "dev" });

        await TestApi.AssertProblemAsync(refused, HttpStatusCode.Conflict, "limit_reached");
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        using var list = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", tenant.ApiKey);
        Assert.Equal(50, (await TestApi.ReadJsonAsync(list))["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_tenant_holds_at_most_10_api_keys()
    {
        var tenant = await api.CreateTenantAsync();
        for (var i = 1; i < 10; i++)
        {
            using var added = await api.SendAsync(HttpMethod.Post, $"/admin/tenants/{tenant.Id}/api-keys", TestApi.Admin);
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        using var refused = await api.SendAsync(HttpMethod.Post, $"/admin/tenants/{tenant.Id}/api-keys", TestApi.Admin);

        await TestApi.AssertProblemAsync(refused, HttpStatusCode.Conflict, "limit_reached");
        using var keys = await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}/api-keys", TestApi.Admin);
        Assert.Equal(10, (await TestApi.ReadJsonAsync(keys))["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_tenant_holds_at_most_50_return_urls_after_authentication()
    {
        var tenant = await api.CreateTenantAsync();
        var tooMany = Enumerable.Range(0, 51).Select(i => $"https://app{i}.example/cb").ToArray();

        using var patched = await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey, new { returnUrls = tooMany });
        using var unauthenticated = await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", "wrong-key", new { returnUrls = tooMany });
        var id = TestApi.NewId();
        using var created = await api.SendAsync(HttpMethod.Post, "/admin/tenants", TestApi.Admin, new { id, displayName = "Many", returnUrls = tooMany });
        using var fifty = await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey, new { returnUrls = tooMany[..50] });

        await TestApi.AssertProblemAsync(patched, HttpStatusCode.Conflict, "limit_reached");
        await TestApi.AssertProblemAsync(unauthenticated, HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(created, HttpStatusCode.Conflict, "limit_reached");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{id}", TestApi.Admin), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, fifty.StatusCode);
    }

    public void Dispose() => api.Dispose();
}

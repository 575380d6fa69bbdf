using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>
/// Keys only open their own tenant: another tenant's key gets 404 on every tenant route, a deleted
/// tenant's key 401, a wrong key 401 (docs/design.md §6). The victim's resources are real, so a 404 here
/// is the isolation rule and not just a missing resource.
/// </summary>
public sealed class TenantIsolationTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    private sealed record Victim(TestTenant Tenant, string SessionId, string UserId, string Code);

    private async Task<Victim> CreateVictimAsync()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var (sessionId, exchange) = await api.SignInAndExchangeAsync(tenant, "victim");
        var code = TestApi.Param(await api.SignInAsync(tenant, "victim"), "code")!;
        return new Victim(tenant, sessionId, exchange["user"]!["id"]!.GetValue<string>(), code);
    }

    private static IEnumerable<(HttpMethod Method, string Path, object? Body)> TenantRoutes(Victim v)
    {
        var root = $"/api/tenants/{v.Tenant.Id}";
        yield return (HttpMethod.Put, $"{root}/connections/dev", new { type = "dev", clientId = "stolen" });
        yield return (HttpMethod.Get, $"{root}/connections", null);
        yield return (HttpMethod.Get, $"{root}/connections/dev", null);
        yield return (HttpMethod.Delete, $"{root}/connections/dev", null);
        yield return (HttpMethod.Patch, root, new { displayName = "Stolen" });
        yield return (HttpMethod.Post, $"{root}/sessions/exchange", new { code = v.Code });
        yield return (HttpMethod.Get, $"{root}/sessions/{v.SessionId}", null);
        yield return (HttpMethod.Get, $"{root}/sessions/{v.SessionId}/token", null);
        yield return (HttpMethod.Post, $"{root}/sessions/{v.SessionId}/refresh", null);
        yield return (HttpMethod.Delete, $"{root}/sessions/{v.SessionId}", null);
        yield return (HttpMethod.Get, $"{root}/users/{v.UserId}/sessions", null);
        yield return (HttpMethod.Delete, $"{root}/users/{v.UserId}/sessions", null);
    }

    [Fact]
    public async Task Another_tenants_key_gets_404_on_every_tenant_route_and_changes_nothing()
    {
        var victim = await CreateVictimAsync();
        var attacker = await api.CreateTenantAsync();

        foreach (var (method, path, body) in TenantRoutes(victim))
        {
            using var response = await api.SendAsync(method, path, attacker.ApiKey, body);
            await TestApi.AssertProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        }

        await AssertUntouchedAsync(victim);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("{tenant}.not-the-secret")]
    [InlineData("no-such-tenant-x.secret")]
    public async Task A_missing_or_wrong_key_gets_401_on_every_tenant_route(string? keyPattern)
    {
        var victim = await CreateVictimAsync();
        var key = keyPattern?.Replace("{tenant}", victim.Tenant.Id, StringComparison.Ordinal);

        foreach (var (method, path, body) in TenantRoutes(victim))
        {
            using var response = await api.SendAsync(method, path, key, body);
            await TestApi.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        }

        await AssertUntouchedAsync(victim);
    }

    [Fact]
    public async Task A_deleted_tenants_key_gets_401_and_the_admin_404()
    {
        var victim = await CreateVictimAsync();
        using var deleted = await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{victim.Tenant.Id}", TestApi.Admin);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        foreach (var (method, path, body) in TenantRoutes(victim))
        {
            await TestApi.AssertProblemAsync(await api.SendAsync(method, path, victim.Tenant.ApiKey, body), HttpStatusCode.Unauthorized, "unauthorized");
            await TestApi.AssertProblemAsync(await api.SendAsync(method, path, TestApi.Admin, body), HttpStatusCode.NotFound, "not_found");
        }

        // Its key does not open other tenants either: 401, not the 404 a live tenant's key gets.
        var other = await api.CreateTenantAsync();
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{other.Id}/connections", victim.Tenant.ApiKey), HttpStatusCode.Unauthorized);
    }

    private async Task AssertUntouchedAsync(Victim victim)
    {
        var root = $"/api/tenants/{victim.Tenant.Id}";
        var key = victim.Tenant.ApiKey;
        var connection = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"{root}/connections/dev", key));
        Assert.Equal($"client-{victim.Tenant.Id}", connection["clientId"]!.GetValue<string>());
        var session = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"{root}/sessions/{victim.SessionId}", key));
        Assert.Equal("active", session["status"]!.GetValue<string>());
        var tenant = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{victim.Tenant.Id}", TestApi.Admin));
        Assert.Equal($"App {victim.Tenant.Id}", tenant["displayName"]!.GetValue<string>());
        // The code was never used up by the refused exchanges.
        using var exchange = await api.SendAsync(HttpMethod.Post, $"{root}/sessions/exchange", key, new { code = victim.Code });
        Assert.Equal(HttpStatusCode.OK, exchange.StatusCode);
    }

    public void Dispose() => api.Dispose();
}

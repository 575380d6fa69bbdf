using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>
/// docs/design.md §6: "the first rule that applies wins" — 400 malformed, 404 unknown, 400 invalid_grant,
/// 409 duplicate, 401 bearer, 404 another tenant's key, 413, 429. Each case here breaks two rules at
/// once and expects the earlier one.
/// </summary>
public sealed class StatusOrderTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task Each_rule_wins_over_the_later_ones()
    {
        var tenant = await api.CreateTenantAsync();
        var other = await api.CreateTenantAsync();
        var unknownSession = new string('A', 43);
        var big = new string(' ', 65 * 1024) + "{}";

        // 400 (malformed body) before 401.
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/c1", null, """{"type":"oidc"}"""), HttpStatusCode.BadRequest, "invalid_request");
        // 400 (malformed id) before 404 (unknown tenant).
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{TestApi.NewId()}/sessions/short", null), HttpStatusCode.BadRequest);
        // 404 (unknown tenant or session) before 401.
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{TestApi.NewId()}/connections", null), HttpStatusCode.NotFound);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{unknownSession}", null), HttpStatusCode.NotFound);
        // 400 invalid_grant before 401.
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/exchange", null, new { code = unknownSession }), HttpStatusCode.BadRequest, "invalid_grant");
        // 409 before 401.
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, "/admin/tenants", null, new { id = tenant.Id, displayName = "X", returnUrls = Array.Empty<string>() }), HttpStatusCode.Conflict, "tenant_exists");
        // 401 before 413; another tenant's key (404) before 413.
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", null, big), HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", other.ApiKey, big), HttpStatusCode.NotFound);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey, big), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Every_route_that_reads_a_body_answers_an_oversized_one_with_413_after_authentication()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var (session, _) = await api.SignInAndExchangeAsync(tenant, "olga");
        // A live code: an oversized exchange must not use it up, and must be a 413, not invalid_grant
        // (a body that was never read holds no code to judge).
        var code = TestApi.Param(await api.SignInAsync(tenant, "pia"), "code");
        var big = new string(' ', 65 * 1024) + "{}";
        var routes = new (HttpMethod Method, string Path, string Bearer)[]
        {
            (HttpMethod.Post, "/admin/tenants", TestApi.Admin),
            (HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey),
            (HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/other", tenant.ApiKey),
            (HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/exchange", tenant.ApiKey),
            (HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/{session}/upstream", tenant.ApiKey),
        };
        foreach (var (method, path, bearer) in routes)
        {
            await TestApi.AssertProblemAsync(await api.SendAsync(method, path, null, big), HttpStatusCode.Unauthorized);
            await TestApi.AssertProblemAsync(await api.SendAsync(method, path, bearer, big), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        }

        using var exchanged = await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/exchange", tenant.ApiKey, new { code });
        Assert.Equal(HttpStatusCode.OK, exchanged.StatusCode);
    }

    public void Dispose() => api.Dispose();
}

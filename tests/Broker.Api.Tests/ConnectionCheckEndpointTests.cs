using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>POST .../connections/{c}/check through the pipeline, against the built-in dev IdP (which takes any
/// secret, so wrong credentials are tested against real providers in Broker.Grains.Tests' ConnectionCheckTests).</summary>
public sealed class ConnectionCheckEndpointTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task A_working_connection_reports_each_check_and_the_callback_url_and_changes_nothing()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var before = await (await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections/dev", tenant.ApiKey)).Content.ReadAsStringAsync();

        using var response = await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/connections/dev/check", tenant.ApiKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await TestApi.ReadJsonAsync(response);
        Assert.True(report["ok"]!.GetValue<bool>(), report.ToJsonString());
        Assert.Equal($"http://localhost/t/{tenant.Id}/callback", report["callbackUrl"]!.GetValue<string>());
        Assert.Equal(["authorize", "client"], report["checks"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.All(report["checks"]!.AsArray(), c => Assert.False(string.IsNullOrEmpty(c!["detail"]!.GetValue<string>())));
        Assert.Equal(before, await (await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections/dev", tenant.ApiKey)).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Unknown_connections_and_wrong_keys_get_the_usual_answers()
    {
        var tenant = await api.CreateTenantAsync();
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/connections/nope/check", tenant.ApiKey), HttpStatusCode.NotFound);
        await api.PutDevConnectionAsync(tenant);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/connections/dev/check", null), HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/connections/Bad_Id/check", tenant.ApiKey), HttpStatusCode.BadRequest);
    }

    public void Dispose() => api.Dispose();
}

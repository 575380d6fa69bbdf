using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>PATCH /api/tenants/{tenant}: named members are replaced at every depth, the rest kept (docs/design.md §6).</summary>
public sealed class TenantPatchTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task A_partial_session_policy_keeps_the_other_member_and_the_other_fields()
    {
        var tenant = await api.CreateTenantAsync("https://a.example/cb", "https://b.example/cb");

        using var patched = await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey, new { sessionPolicy = new { refreshLeadSeconds = 30 } });

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var view = await TestApi.ReadJsonAsync(patched);
        Assert.Equal(30, view["sessionPolicy"]!["refreshLeadSeconds"]!.GetValue<int>());
        Assert.Equal(86_400, view["sessionPolicy"]!["lifetimeSeconds"]!.GetValue<int>());
        Assert.Equal(2, view["returnUrls"]!.AsArray().Count);
        Assert.Equal($"App {tenant.Id}", view["displayName"]!.GetValue<string>());

        using var second = await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey,
            new { returnUrls = new[] { "https://c.example/cb" }, sessionPolicy = new { lifetimeSeconds = 3600 } });
        var after = await TestApi.ReadJsonAsync(second);
        Assert.Equal(["https://c.example/cb"], after["returnUrls"]!.AsArray().Select(u => u!.GetValue<string>()));
        Assert.Equal(30, after["sessionPolicy"]!["refreshLeadSeconds"]!.GetValue<int>());
        Assert.Equal(3600, after["sessionPolicy"]!["lifetimeSeconds"]!.GetValue<int>());

        var admin = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", TestApi.Admin));
        Assert.Equal(after.ToJsonString(), admin.ToJsonString());
    }

    [Theory]
    [InlineData("""{"sessionPolicy":{"refreshLeadSeconds":4}}""", "sessionPolicy.refreshLeadSeconds")]
    [InlineData("""{"sessionPolicy":{"refreshLeadSeconds":3601}}""", "sessionPolicy.refreshLeadSeconds")]
    [InlineData("""{"sessionPolicy":{"refreshLeadSeconds":30.5}}""", "sessionPolicy.refreshLeadSeconds")]
    [InlineData("""{"sessionPolicy":{"refreshLeadSeconds":"30"}}""", "sessionPolicy.refreshLeadSeconds")]
    [InlineData("""{"sessionPolicy":{"refreshLeadSeconds":null}}""", "sessionPolicy.refreshLeadSeconds")]
    [InlineData("""{"sessionPolicy":{"lifetimeSeconds":0}}""", "sessionPolicy.lifetimeSeconds")]
    [InlineData("""{"sessionPolicy":{"refreshLead":30}}""", "sessionPolicy.refreshLead")]
    [InlineData("""{"displayName":null}""", "displayName")]
    [InlineData("""{"displayName":""}""", "displayName")]
    [InlineData("""{"returnUrls":["https://user@a.example/cb"]}""", "returnUrls[0]")]
    [InlineData("""{"returnUrls":null}""", "returnUrls")]
    public async Task An_invalid_patch_is_400_naming_the_field_and_changes_nothing(string body, string field)
    {
        var tenant = await api.CreateTenantAsync();
        var before = await (await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", TestApi.Admin)).Content.ReadAsStringAsync();

        using var response = await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey, body);

        var problem = await TestApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.True(problem["errors"]?[field] is not null, problem.ToJsonString());
        var after = await (await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", TestApi.Admin)).Content.ReadAsStringAsync();
        Assert.Equal(before, after);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(3600)]
    public async Task The_refresh_lead_bounds_are_inclusive(int lead)
    {
        var tenant = await api.CreateTenantAsync();
        using var response = await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey, new { sessionPolicy = new { refreshLeadSeconds = lead } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public void Dispose() => api.Dispose();
}

using System.Net;
using System.Text;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary><c>GET /admin/tenants</c>: every active tenant once, in id order, a page at a time.</summary>
public sealed class TenantListTests : IDisposable
{
    // A host of its own: the other test classes' tenants would be on its pages.
    private readonly BrokerTestHost _host = new();
    private readonly TestApi _api;

    public TenantListTests() => _api = new TestApi(_host);

    public void Dispose()
    {
        _api.Dispose();
        _host.Dispose();
    }

    [Fact]
    public async Task Pages_list_each_active_tenant_once_in_id_order_and_stay_stable_while_tenants_are_added()
    {
        var ids = new[] { "acme", "beta-co", "corp", "delta", "echo", "foxtrot", "golf" };
        foreach (var id in ids)
            await CreateAsync(id);
        Assert.Equal(HttpStatusCode.NoContent, (await _api.SendAsync(HttpMethod.Delete, "/admin/tenants/corp", TestApi.Admin)).StatusCode);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            using var response = await _api.SendAsync(HttpMethod.Get, "/admin/tenants?limit=2" + (cursor is null ? "" : "&cursor=" + cursor), TestApi.Admin);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await TestApi.ReadJsonAsync(response);
            var items = page["items"]!.AsArray();
            Assert.InRange(items.Count, 1, 2);
            seen.AddRange(items.Select(item => item!["id"]!.GetValue<string>()));
            Assert.All(items, item => Assert.Equal($"Tenant {item!["id"]}", item!["displayName"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
            Assert.True(page.ContainsKey("nextCursor")); // null on the last page, never left out
            if (pages++ == 0)
            {
                // Created while paging: one that sorts before the cursor is not on a later page, one after it is.
                await CreateAsync("aaa-early");
                await CreateAsync("zulu");
            }
        }
        while (cursor is not null);

        Assert.Equal(["acme", "beta-co", "delta", "echo", "foxtrot", "golf", "zulu"], seen);

        using var all = await _api.SendAsync(HttpMethod.Get, "/admin/tenants", TestApi.Admin);
        var everything = (await TestApi.ReadJsonAsync(all))["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>());
        Assert.Equal(["aaa-early", "acme", "beta-co", "delta", "echo", "foxtrot", "golf", "zulu"], everything);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=1&limit=2", "limit")]
    [InlineData("cursor=not-a-cursor!", "cursor")]
    [InlineData("cursor=", "cursor")]
    public async Task A_malformed_limit_or_cursor_is_a_400_naming_it(string query, string name)
    {
        var problem = await TestApi.AssertProblemAsync(await _api.SendAsync(HttpMethod.Get, "/admin/tenants?" + query, TestApi.Admin), HttpStatusCode.BadRequest);
        Assert.Contains(name, problem.ToJsonString());
    }

    [Fact]
    public async Task A_cursor_that_does_not_hold_a_tenant_id_is_a_400()
    {
        // Well-formed base64url, but not what the route gives out.
        foreach (var text in new[] { "UPPER", "v1:UPPER", "v2:acme", "v1:../acme" })
        {
            var cursor = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            await TestApi.AssertProblemAsync(await _api.SendAsync(HttpMethod.Get, "/admin/tenants?cursor=" + cursor, TestApi.Admin), HttpStatusCode.BadRequest);
        }
    }

    [Fact]
    public async Task Only_the_admin_token_lists_tenants()
    {
        var tenant = await _api.CreateTenantAsync();
        foreach (var bearer in new[] { null, tenant.ApiKey, "wrong-admin-token-0123456789" })
            await TestApi.AssertProblemAsync(await _api.SendAsync(HttpMethod.Get, "/admin/tenants", bearer), HttpStatusCode.Unauthorized);
    }

    private async Task CreateAsync(string id)
    {
        using var response = await _api.SendAsync(HttpMethod.Post, "/admin/tenants", TestApi.Admin, new { id, displayName = $"Tenant {id}", returnUrls = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}

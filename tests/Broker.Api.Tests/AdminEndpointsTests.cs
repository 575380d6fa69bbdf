using System.Net;
using System.Text;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>The operator routes and the §6 status codes they answer.</summary>
public sealed class AdminEndpointsTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task Create_get_add_key_and_delete_a_tenant()
    {
        var id = TestApi.NewId();
        using var created = await api.SendAsync(HttpMethod.Post, "/admin/tenants", TestApi.Admin,
            new { id, displayName = "Acme", returnUrls = new[] { "https://acme.example/cb" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/admin/tenants/{id}", created.Headers.Location?.OriginalString);
        var body = await TestApi.ReadJsonAsync(created);
        Assert.Equal(id, body["id"]!.GetValue<string>());
        var firstKey = body["apiKey"]!.GetValue<string>();
        Assert.StartsWith(id + ".", firstKey);

        using var read = await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{id}", TestApi.Admin);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var view = await TestApi.ReadJsonAsync(read);
        Assert.Equal("Acme", view["displayName"]!.GetValue<string>());
        Assert.Equal("https://acme.example/cb", view["returnUrls"]![0]!.GetValue<string>());
        Assert.Equal(60, view["sessionPolicy"]!["refreshLeadSeconds"]!.GetValue<int>());
        Assert.Equal(86_400, view["sessionPolicy"]!["lifetimeSeconds"]!.GetValue<int>());
        Assert.EndsWith("Z", view["createdAt"]!.GetValue<string>());
        Assert.DoesNotContain("apiKey", view.ToJsonString(), StringComparison.OrdinalIgnoreCase);

        using var added = await api.SendAsync(HttpMethod.Post, $"/admin/tenants/{id}/api-keys", TestApi.Admin);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var secondKey = (await TestApi.ReadJsonAsync(added))["apiKey"]!.GetValue<string>();
        Assert.NotEqual(firstKey, secondKey);
        // Old keys stay valid until the tenant goes.
        foreach (var key in new[] { firstKey, secondKey })
        {
            using var list = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{id}/connections", key);
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        }

        using var deleted = await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{id}", TestApi.Admin);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{id}", TestApi.Admin), HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{id}", TestApi.Admin), HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, $"/admin/tenants/{id}/api-keys", TestApi.Admin), HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-admin-token-0123456789")]
    public async Task Every_admin_route_needs_the_admin_token(string? bearer)
    {
        var tenant = await api.CreateTenantAsync();
        var routes = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Post, "/admin/tenants", new { id = TestApi.NewId(), displayName = "X", returnUrls = Array.Empty<string>() }),
            (HttpMethod.Get, "/admin/tenants", null),
            (HttpMethod.Get, $"/admin/tenants/{tenant.Id}", null),
            (HttpMethod.Post, $"/admin/tenants/{tenant.Id}/api-keys", null),
            (HttpMethod.Get, $"/admin/tenants/{tenant.Id}/api-keys", null),
            (HttpMethod.Delete, $"/admin/tenants/{tenant.Id}/api-keys/{KeyId(tenant.ApiKey)}", null),
            (HttpMethod.Delete, $"/admin/tenants/{tenant.Id}", null),
        };
        foreach (var (method, path, body) in routes)
        {
            using var response = await api.SendAsync(method, path, bearer, body);
            await TestApi.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        }
        // Nothing happened: the tenant is still there, with its one key.
        using var still = await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", TestApi.Admin);
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        Assert.Single(await KeyIdsAsync(tenant.Id));
        using var keyWorks = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, keyWorks.StatusCode);
    }

    [Fact]
    public async Task While_the_admin_token_rotates_the_previous_one_acts_as_admin_too()
    {
        const string previous = "previous-admin-token-0123456789";
        using var host = new BrokerTestHost(new Dictionary<string, string?> { ["Broker:PreviousAdminTokens"] = "older-admin-token-0123456789," + previous });
        using var rotating = new TestApi(host);
        var tenant = await rotating.CreateTenantAsync();

        foreach (var token in new[] { TestApi.Admin, previous })
        {
            using var read = await rotating.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", token);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            using var connections = await rotating.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", token);
            Assert.Equal(HttpStatusCode.OK, connections.StatusCode);
        }
        // Only whole tokens of the list: not a prefix of one, not the list as written.
        foreach (var token in new[] { previous[..^1], "older-admin-token-0123456789," + previous, "wrong-admin-token-0123456789" })
            await TestApi.AssertProblemAsync(await rotating.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", token), HttpStatusCode.Unauthorized);
        // The silos of the shared fixture have no previous token: there it is just a wrong one.
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{(await api.CreateTenantAsync()).Id}", previous), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_tenant_key_on_admin_routes_is_401()
    {
        var tenant = await api.CreateTenantAsync();
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", tenant.ApiKey), HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, $"/admin/tenants/{tenant.Id}/api-keys", tenant.ApiKey), HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{tenant.Id}", tenant.ApiKey), HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, "/admin/tenants", tenant.ApiKey,
            new { id = TestApi.NewId(), displayName = "X", returnUrls = Array.Empty<string>() }), HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}/api-keys", tenant.ApiKey), HttpStatusCode.Unauthorized);
        // A tenant cannot retire keys (its own included): that is the operator's call.
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{tenant.Id}/api-keys/{KeyId(tenant.ApiKey)}", tenant.ApiKey), HttpStatusCode.Unauthorized);
        Assert.Equal([KeyId(tenant.ApiKey)], await KeyIdsAsync(tenant.Id));
    }

    [Fact]
    public async Task Keys_are_listed_by_id_and_a_deleted_key_gets_401_at_once()
    {
        var tenant = await api.CreateTenantAsync();
        using var added = await api.SendAsync(HttpMethod.Post, $"/admin/tenants/{tenant.Id}/api-keys", TestApi.Admin);
        var second = (await TestApi.ReadJsonAsync(added))["apiKey"]!.GetValue<string>();

        using var listed = await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}/api-keys", TestApi.Admin);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var list = await TestApi.ReadJsonAsync(listed);
        var items = list["items"]!.AsArray();
        Assert.Equal([KeyId(tenant.ApiKey), KeyId(second)], items.Select(i => i!["id"]!.GetValue<string>()));
        Assert.All(items, i => Assert.EndsWith("Z", i!["createdAt"]!.GetValue<string>()));
        Assert.Equal(["createdAt", "id"], items[0]!.AsObject().Select(m => m.Key).Order());
        Assert.DoesNotContain(tenant.ApiKey.Split('.')[2], list.ToJsonString());

        using var deleted = await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{tenant.Id}/api-keys/{KeyId(tenant.ApiKey)}", TestApi.Admin);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", tenant.ApiKey), HttpStatusCode.Unauthorized, "unauthorized");
        using (var stillValid = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", second))
            Assert.Equal(HttpStatusCode.OK, stillValid.StatusCode);
        Assert.Equal([KeyId(second)], await KeyIdsAsync(tenant.Id));
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{tenant.Id}/api-keys/{KeyId(tenant.ApiKey)}", TestApi.Admin), HttpStatusCode.NotFound, "not_found");

        // The last key may go too: the tenant is then reachable with the admin token only, until it gets a new key.
        using (var last = await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{tenant.Id}/api-keys/{KeyId(second)}", TestApi.Admin))
            Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", second), HttpStatusCode.Unauthorized);
        Assert.Empty(await KeyIdsAsync(tenant.Id));
    }

    [Fact]
    public async Task Another_tenants_key_id_is_404_and_that_key_keeps_working()
    {
        var (mine, theirs) = (await api.CreateTenantAsync(), await api.CreateTenantAsync());
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{mine.Id}/api-keys/{KeyId(theirs.ApiKey)}", TestApi.Admin), HttpStatusCode.NotFound, "not_found");
        using var theirsWorks = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{theirs.Id}/connections", theirs.ApiKey);
        Assert.Equal(HttpStatusCode.OK, theirsWorks.StatusCode);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{TestApi.NewId()}/api-keys", TestApi.Admin), HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData("ABCDEFGHIJKL")]
    [InlineData("abc")]
    [InlineData("abcdefghijklm")]
    [InlineData("abcdefghijk-")]
    [InlineData("abcdefghijk%2E")]
    public async Task A_malformed_key_id_is_400_even_without_a_bearer_and_deletes_nothing(string keyId)
    {
        var tenant = await api.CreateTenantAsync();
        foreach (var bearer in new[] { TestApi.Admin, null })
        {
            var problem = await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{tenant.Id}/api-keys/{keyId}", bearer), HttpStatusCode.BadRequest, "invalid_request");
            Assert.NotNull(problem["errors"]!["key"]);
        }
        Assert.Single(await KeyIdsAsync(tenant.Id));
    }

    [Fact]
    public async Task A_duplicate_tenant_is_409_and_keeps_the_first()
    {
        var tenant = await api.CreateTenantAsync();
        using var again = await api.SendAsync(HttpMethod.Post, "/admin/tenants", TestApi.Admin,
            new { id = tenant.Id, displayName = "Impostor", returnUrls = new[] { "https://evil.example/cb" } });
        await TestApi.AssertProblemAsync(again, HttpStatusCode.Conflict, "tenant_exists");
        var view = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", TestApi.Admin));
        Assert.Equal(tenant.ReturnUrl, view["returnUrls"]![0]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"id":"Bad_Id","displayName":"X","returnUrls":[]}""", "id")]
    [InlineData("""{"id":"a","displayName":"X","returnUrls":[]}""", "id")]
    [InlineData("""{"displayName":"X","returnUrls":[]}""", "id")]
    [InlineData("""{"id":"ok-id","returnUrls":[]}""", "displayName")]
    [InlineData("""{"id":"ok-id","displayName":"X"}""", "returnUrls")]
    [InlineData("""{"id":"ok-id","displayName":"X","returnUrls":["javascript:alert(1)"]}""", "returnUrls[0]")]
    [InlineData("""{"id":"ok-id","displayName":"X","returnUrls":["https://a.example/cb#frag"]}""", "returnUrls[0]")]
    [InlineData("""{"id":"ok-id","displayName":"X","returnUrls":"https://a.example/cb"}""", "returnUrls")]
    [InlineData("""{"id":"ok-id","displayName":"X","returnUrls":[],"extra":1}""", "extra")]
    [InlineData("""{"id":"ok-id","displayName":"X","returnUrls":[],"id":"other-id"}""", null)]
    [InlineData("""{"id":"ok-id","displayName":""", null)]
    [InlineData("""[1,2,3]""", null)]
    [InlineData("""null""", null)]
    [InlineData("", null)]
    public async Task A_bad_create_body_is_400_problem_and_creates_nothing(string body, string? field)
    {
        // Unauthenticated on purpose: a malformed body is 400 before anything else (docs/design.md §6).
        foreach (var bearer in new[] { TestApi.Admin, null })
        {
            using var response = await api.SendAsync(HttpMethod.Post, "/admin/tenants", bearer, body);
            var problem = await TestApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
            if (field is not null)
                Assert.NotNull(problem["errors"]![field]);
        }
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, "/admin/tenants/ok-id", TestApi.Admin), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("UPPER")]
    [InlineData("a")]
    [InlineData("-leading-dash")]
    [InlineData("has.dot")]
    [InlineData("trailing-newline%0A")]
    public async Task A_malformed_tenant_id_in_the_path_is_400_even_without_a_bearer(string id)
    {
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{id}", null), HttpStatusCode.BadRequest, "invalid_request");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{id}", TestApi.Admin), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task An_unknown_tenant_is_404_before_authentication()
    {
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{TestApi.NewId()}", null), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_413_after_authentication_and_creates_nothing()
    {
        var id = TestApi.NewId();
        var huge = $$"""{"id":"{{id}}","displayName":"{{new string('x', 65 * 1024)}}","returnUrls":[]}""";
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, "/admin/tenants", TestApi.Admin, huge), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        // Without the token the 401 comes first (§6 ranks 413 after authentication).
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, "/admin/tenants", null, huge), HttpStatusCode.Unauthorized);
        // Chunked, without a Content-Length: the reader stops after 64 KiB + 1 byte.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/tenants")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge))),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Authorization = new("Bearer", TestApi.Admin);
        await TestApi.AssertProblemAsync(await api.Http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{id}", TestApi.Admin), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_non_json_content_type_is_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/tenants")
        {
            Content = new StringContent("id=x", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Authorization = new("Bearer", TestApi.Admin);
        await TestApi.AssertProblemAsync(await api.Http.SendAsync(request), HttpStatusCode.BadRequest, "invalid_request");
    }

    /// <summary>The id of a key: the middle part of <c>{tenant}.{id}.{secret}</c>.</summary>
    private static string KeyId(string apiKey) => apiKey.Split('.')[1];

    private async Task<List<string>> KeyIdsAsync(string tenant)
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant}/api-keys", TestApi.Admin);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await TestApi.ReadJsonAsync(response))["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>())];
    }

    public void Dispose() => api.Dispose();
}

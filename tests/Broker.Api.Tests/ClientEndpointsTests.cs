using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;
using Broker.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Api.Tests;

/// <summary>The app clients of a tenant's OpenID Provider (docs/design.md §6 "OpenID Provider"): registration,
/// secrets shown once and stored as hashes, rotation, the URI rules, limits and the keys' rules.</summary>
public sealed class ClientEndpointsTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    private IGrainFactory Grains => fixture.Host.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task A_confidential_client_gets_its_secret_once_and_only_the_secret_works()
    {
        var tenant = await TenantAsync();
        var path = $"/api/tenants/{tenant.Id}/clients/portal";

        using var created = await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, new
        {
            displayName = " Portal ", redirectUris = new[] { "https://portal.example/signin-oidc", "http://localhost:5005/cb" },
            postLogoutRedirectUris = new[] { "https://portal.example/" }, connections = new[] { "dev" }, offlineAccess = true,
        });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(path, created.Headers.Location?.OriginalString);
        Assert.Equal("no-store", created.Headers.CacheControl?.ToString());
        var body = await TestApi.ReadJsonAsync(created);
        var secret = body["clientSecret"]!.GetValue<string>();
        Assert.Equal(43, secret.Length);
        Assert.Equal(("portal", "Portal", "client_secret_basic", true, true),
            (body["id"]!.GetValue<string>(), body["displayName"]!.GetValue<string>(), body["tokenEndpointAuthMethod"]!.GetValue<string>(),
             body["offlineAccess"]!.GetValue<bool>(), body["hasClientSecret"]!.GetValue<bool>()));

        var read = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, path, tenant.ApiKey));
        Assert.Null(read["clientSecret"]);
        Assert.DoesNotContain(secret, read.ToJsonString());
        Assert.Equal("""["https://portal.example/signin-oidc","http://localhost:5005/cb"]""", read["redirectUris"]!.ToJsonString());
        var list = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/clients", tenant.ApiKey));
        Assert.Equal(["portal"], list["items"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        Assert.DoesNotContain(secret, list.ToJsonString());

        var tenantGrain = Grains.Tenant(tenant.Id);
        Assert.True(await tenantGrain.CheckClientSecretAsync("portal", secret));
        Assert.False(await tenantGrain.CheckClientSecretAsync("portal", secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A')));

        // A replacement is whole and keeps the secret; it answers no secret.
        using (var replaced = await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, new { redirectUris = new[] { "https://portal.example/cb2" } }))
        {
            Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
            var view = await TestApi.ReadJsonAsync(replaced);
            Assert.Null(view["clientSecret"]);
            Assert.Equal(("[]", false, "[]"), (view["connections"]!.ToJsonString(), view["offlineAccess"]!.GetValue<bool>(), view["postLogoutRedirectUris"]!.ToJsonString()));
            Assert.Equal(body["createdAt"]!.GetValue<string>(), view["createdAt"]!.GetValue<string>());
        }
        Assert.True(await tenantGrain.CheckClientSecretAsync("portal", secret));

        // Rotation: the new secret works, the old one stops at once.
        using var rotated = await api.SendAsync(HttpMethod.Post, path + "/secret", tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var newSecret = (await TestApi.ReadJsonAsync(rotated))["clientSecret"]!.GetValue<string>();
        Assert.NotEqual(secret, newSecret);
        Assert.True(await tenantGrain.CheckClientSecretAsync("portal", newSecret));
        Assert.False(await tenantGrain.CheckClientSecretAsync("portal", secret));
    }

    [Fact]
    public async Task A_public_client_has_no_secret_until_it_is_made_confidential()
    {
        var tenant = await TenantAsync();
        var path = $"/api/tenants/{tenant.Id}/clients/spa";

        using (var created = await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, new { redirectUris = new[] { "https://spa.example/" }, tokenEndpointAuthMethod = "none" }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var body = await TestApi.ReadJsonAsync(created);
            Assert.Null(body["clientSecret"]);
            Assert.False(body["hasClientSecret"]!.GetValue<bool>());
        }
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path + "/secret", tenant.ApiKey), HttpStatusCode.Conflict, "public_client");

        using var confidential = await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, new { redirectUris = new[] { "https://spa.example/" }, tokenEndpointAuthMethod = "client_secret_post" });
        Assert.Equal(HttpStatusCode.OK, confidential.StatusCode);
        var secret = (await TestApi.ReadJsonAsync(confidential))["clientSecret"]!.GetValue<string>();
        Assert.True(await Grains.Tenant(tenant.Id).CheckClientSecretAsync("spa", secret));

        // Public again: the secret is gone.
        (await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, new { redirectUris = new[] { "https://spa.example/" }, tokenEndpointAuthMethod = "none" })).EnsureSuccessStatusCode();
        Assert.False(await Grains.Tenant(tenant.Id).CheckClientSecretAsync("spa", secret));
    }

    [Theory]
    [InlineData("""{"redirectUris":[]}""", "redirectUris")]
    [InlineData("""{}""", "redirectUris")]
    [InlineData("""{"redirectUris":["http://portal.example/cb"]}""", "redirectUris[0]")]
    [InlineData("""{"redirectUris":["https://portal.example/cb#x"]}""", "redirectUris[0]")]
    [InlineData("""{"redirectUris":["/cb"]}""", "redirectUris[0]")]
    [InlineData("""{"redirectUris":["https://user:pw@portal.example/cb"]}""", "redirectUris[0]")]
    [InlineData("""{"redirectUris":["javascript:alert(1)"]}""", "redirectUris[0]")]
    [InlineData("""{"redirectUris":["https://a.example/","https://a.example/"]}""", "redirectUris")]
    [InlineData("""{"redirectUris":["https://a.example/"],"postLogoutRedirectUris":["http://a.example/"]}""", "postLogoutRedirectUris[0]")]
    [InlineData("""{"redirectUris":["https://a.example/"],"tokenEndpointAuthMethod":"private_key_jwt"}""", "tokenEndpointAuthMethod")]
    [InlineData("""{"redirectUris":["https://a.example/"],"connections":["Bad_Id"]}""", "connections[0]")]
    [InlineData("""{"redirectUris":["https://a.example/"],"connections":["dev","dev"]}""", "connections")]
    [InlineData("""{"redirectUris":["https://a.example/"],"connections":["nowhere"]}""", "connections[0]")]
    [InlineData("""{"redirectUris":["https://a.example/"],"id":"other"}""", "id")]
    [InlineData("""{"redirectUris":["https://a.example/"],"displayName":"  "}""", "displayName")]
    [InlineData("""{"redirectUris":["https://a.example/"],"clientSecret":"mine"}""", null)]
    public async Task A_bad_registration_is_a_400_naming_the_field_and_registers_nothing(string body, string? field)
    {
        var tenant = await TenantAsync();
        var problem = await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/portal", tenant.ApiKey, body), HttpStatusCode.BadRequest, "invalid_request");
        if (field is not null)
            Assert.NotNull(problem["errors"]![field]);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/clients/portal", tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Twenty_one_redirect_uris_a_hundred_and_first_client_and_the_keys_rules_are_refused()
    {
        var tenant = await TenantAsync();
        var other = await api.CreateTenantAsync();
        var path = $"/api/tenants/{tenant.Id}/clients/portal";
        var tooMany = Enumerable.Range(0, 21).Select(i => $"https://a.example/{i}").ToArray();
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, new { redirectUris = tooMany }), HttpStatusCode.BadRequest, "invalid_request");
        (await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, new { redirectUris = tooMany[..20] })).EnsureSuccessStatusCode();

        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, path, null), HttpStatusCode.Unauthorized, "unauthorized");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, path, other.ApiKey), HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path + "/secret", other.ApiKey), HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/clients/Bad_Id", tenant.ApiKey), HttpStatusCode.BadRequest, "invalid_request");
        var big = "{\"redirectUris\":[\"https://a.example/\"],\"displayName\":\"" + new string('a', 65 * 1024) + "\"}";
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Put, path, null, big), HttpStatusCode.Unauthorized, "unauthorized");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, big), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        for (var i = 1; i < 100; i++)
            (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/c{i}", tenant.ApiKey, new { redirectUris = new[] { "https://a.example/" } })).EnsureSuccessStatusCode();
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/one-more", tenant.ApiKey, new { redirectUris = new[] { "https://a.example/" } }), HttpStatusCode.Conflict, "limit_reached");
        (await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, new { redirectUris = new[] { "https://a.example/" } })).EnsureSuccessStatusCode(); // replacing still works

        using (var deleted = await api.SendAsync(HttpMethod.Delete, path, tenant.ApiKey))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, path, tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, path, tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_tenant_created_again_under_a_deleted_ones_id_has_none_of_its_clients()
    {
        var tenant = await TenantAsync();
        (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/portal", tenant.ApiKey, new { redirectUris = new[] { "https://a.example/" } })).EnsureSuccessStatusCode();
        (await api.SendAsync(HttpMethod.Delete, $"/admin/tenants/{tenant.Id}", TestApi.Admin)).EnsureSuccessStatusCode();
        using var again = await api.SendAsync(HttpMethod.Post, "/admin/tenants", TestApi.Admin, new { id = tenant.Id, displayName = "Again", returnUrls = Array.Empty<string>() });
        var key = (await TestApi.ReadJsonAsync(again))["apiKey"]!.GetValue<string>();

        var list = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/clients", key));
        Assert.Empty(list["items"]!.AsArray());
    }

    private async Task<TestTenant> TenantAsync()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        return tenant;
    }

    public void Dispose() => api.Dispose();
}

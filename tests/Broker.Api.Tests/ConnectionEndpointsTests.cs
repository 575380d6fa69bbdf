using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>Connection CRUD: validated on the way in, never shows its secret on the way out.</summary>
public sealed class ConnectionEndpointsTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private const string Secret = "s3cr3t-value-never-echoed";
    private readonly TestApi api = new(fixture.Host);

    private static object Oidc(string clientId = "my-client") => new
    {
        type = "oidc",
        clientId,
        clientSecret = Secret,
        scopes = new[] { "openid", "profile" },
        issuer = "https://login.example.com",
        tokenEndpointAuthMethod = "client_secret_post",
        extraAuthorizeParams = new Dictionary<string, string> { ["prompt"] = "login" },
        options = new Dictionary<string, object> { ["unionId"] = true },
        apiBaseUrl = "https://api.example.com/v1/",
    };

    [Fact]
    public async Task Put_creates_then_replaces_and_no_response_carries_the_secret()
    {
        var tenant = await api.CreateTenantAsync();
        var path = $"/api/tenants/{tenant.Id}/connections/corp";

        using var created = await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, Oidc());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(path, created.Headers.Location?.OriginalString);
        var createdText = await created.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Secret, createdText);
        var view = JsonNode.Parse(createdText)!.AsObject();
        Assert.Equal("corp", view["id"]!.GetValue<string>());
        Assert.True(view["hasClientSecret"]!.GetValue<bool>());
        Assert.Null(view["clientSecret"]);
        Assert.Equal("true", view["options"]!["unionId"]!.GetValue<string>());
        Assert.Equal("login", view["extraAuthorizeParams"]!["prompt"]!.GetValue<string>());
        Assert.True(view.ContainsKey("baseUrl") && view["baseUrl"] is null, "members with no value are written as null");
        Assert.True(view["endpoints"]!.AsObject().ContainsKey("jwks"));

        using var replaced = await api.SendAsync(HttpMethod.Put, path, tenant.ApiKey, Oidc("other-client"));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.DoesNotContain(Secret, await replaced.Content.ReadAsStringAsync());

        using var one = await api.SendAsync(HttpMethod.Get, path, tenant.ApiKey);
        var oneText = await one.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.DoesNotContain(Secret, oneText);
        Assert.Equal("other-client", JsonNode.Parse(oneText)!["clientId"]!.GetValue<string>());

        await api.PutDevConnectionAsync(tenant, "a-dev");
        using var list = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", tenant.ApiKey);
        var listText = await list.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Secret, listText);
        var items = JsonNode.Parse(listText)!["items"]!.AsArray();
        Assert.Equal(["a-dev", "corp"], items.Select(i => i!["id"]!.GetValue<string>()));

        using var deleted = await api.SendAsync(HttpMethod.Delete, path, tenant.ApiKey);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, path, tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, path, tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_admin_token_acts_on_tenant_routes()
    {
        var tenant = await api.CreateTenantAsync();
        using var created = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/corp", TestApi.Admin, Oidc());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Theory]
    [InlineData("""{"type":"nope","clientId":"c","clientSecret":"s"}""", "type")]
    [InlineData("""{"clientId":"c","clientSecret":"s"}""", "type")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s"}""", "issuer")]
    [InlineData("""{"type":"oidc","clientSecret":"s","issuer":"https://i.example"}""", "clientId")]
    [InlineData("""{"type":"oidc","clientId":"c","issuer":"https://i.example"}""", "clientSecret")]
    [InlineData("""{"type":"oauth2","clientId":"c","clientSecret":"s"}""", "endpoints.authorize")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s","issuer":"https://i.example","tokenEndpointAuthMethod":"magic"}""", "tokenEndpointAuthMethod")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s","issuer":"https://i.example","extraAuthorizeParams":{"state":"x"}}""", "extraAuthorizeParams.state")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s","issuer":"https://i.example","extraAuthorizeParams":{"response_mode":"form_post"}}""", "extraAuthorizeParams.response_mode")]
    [InlineData("""{"type":"authing","clientId":"c","clientSecret":"s"}""", "baseUrl")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s","issuer":"https://i.example","extraAuthorizeParams":{"code_challenge_method":"plain"}}""", "extraAuthorizeParams.code_challenge_method")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s","issuer":"https://i.example","options":{"nested":{"a":1}}}""", "options.nested")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s","issuer":"https://i.example","usePkce":"yes"}""", "usePkce")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s","issuer":"https://i.example","scopes":"openid"}""", "scopes")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s","issuer":"https://i.example","endpoints":{"authorise":"https://x"}}""", "endpoints.authorise")]
    [InlineData("""{"type":"dev","id":"other"}""", "id")]
    [InlineData("""{"type":"dev",""", null)]
    public async Task An_invalid_connection_is_400_with_field_errors_and_changes_nothing(string body, string? field)
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant, "corp");
        var before = await (await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections/corp", tenant.ApiKey)).Content.ReadAsStringAsync();

        using var response = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/corp", tenant.ApiKey, body);

        var problem = await TestApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        if (field is not null)
            Assert.True(problem["errors"]?[field] is not null, problem.ToJsonString());
        var after = await (await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections/corp", tenant.ApiKey)).Content.ReadAsStringAsync();
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Plain_http_upstreams_are_refused_unless_allowed()
    {
        using var strict = new BrokerTestHost(new Dictionary<string, string?> { ["Broker:AllowHttpUpstreams"] = "false" });
        using var strictApi = new TestApi(strict);
        var tenant = await strictApi.CreateTenantAsync();
        using var response = await strictApi.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/corp", tenant.ApiKey,
            new { type = "oidc", clientId = "c", clientSecret = "s", issuer = "http://insecure.example" });
        var problem = await TestApi.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.NotNull(problem["errors"]!["issuer"]);
    }

    [Fact]
    public async Task A_malformed_connection_id_is_400()
    {
        var tenant = await api.CreateTenantAsync();
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/Bad_Id", tenant.ApiKey, new { type = "dev" }), HttpStatusCode.BadRequest);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections/x", tenant.ApiKey), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("""{"type":"authing","clientId":"c","clientSecret":"s","baseUrl":"https://app.authing.example"}""", "client_secret_post")]
    [InlineData("""{"type":"oidc","clientId":"c","clientSecret":"s","issuer":"https://i.example"}""", "client_secret_basic")]
    [InlineData("""{"type":"github","clientId":"c","clientSecret":"s"}""", "client_secret_basic")]
    public async Task A_connection_that_names_no_auth_method_gets_its_providers_sdk_default(string body, string method)
    {
        var tenant = await api.CreateTenantAsync();

        using var response = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/corp", tenant.ApiKey, body);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(method, (await TestApi.ReadJsonAsync(response))["tokenEndpointAuthMethod"]!.GetValue<string>());
    }

    public void Dispose() => api.Dispose();
}

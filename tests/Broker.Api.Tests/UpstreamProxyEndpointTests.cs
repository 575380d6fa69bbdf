using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>POST .../sessions/{session}/upstream through the pipeline; the dev IdP's userinfo is the API.</summary>
public sealed class UpstreamProxyEndpointTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    private async Task<(TestTenant Tenant, string Path)> SignedInAsync()
    {
        var tenant = await api.CreateTenantAsync("https://app.example/cb");
        await api.PutDevConnectionAsync(tenant);
        var (sessionId, _) = await api.SignInAndExchangeAsync(tenant, "carol");
        return (tenant, $"/api/tenants/{tenant.Id}/sessions/{sessionId}/upstream");
    }

    [Fact]
    public async Task The_providers_answer_comes_back_unchanged_and_marked()
    {
        var (tenant, path) = await SignedInAsync();

        using var response = await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { method = "GET", path = "userinfo" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues(UpstreamEndpoints.UpstreamHeader).Single());
        var body = await TestApi.ReadJsonAsync(response);
        Assert.Equal("carol", body["sub"]!.GetValue<string>());
        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
    }

    [Theory]
    [InlineData("authorization")]
    [InlineData("cookie")]
    [InlineData("host")]
    [InlineData("x-forwarded-for")]
    public async Task A_request_header_off_the_allow_list_is_a_400_naming_it_and_nothing_is_sent(string header)
    {
        var (tenant, path) = await SignedInAsync();

        var problem = await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new
        {
            method = "GET", path = "userinfo", headers = new Dictionary<string, string> { [header] = "x" },
        }), HttpStatusCode.BadRequest, "invalid_request");

        Assert.Contains($"headers.{header}", problem.ToJsonString());
    }

    [Fact]
    public async Task A_form_body_goes_upstream_urlencoded_with_the_allowed_headers()
    {
        var (tenant, path) = await SignedInAsync();

        // The dev IdP's introspection endpoint reads only a form: an answer means the form arrived.
        using var response = await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new
        {
            method = "POST", path = "introspect",
            form = new Dictionary<string, string> { ["token"] = "not-a-token", ["client_id"] = $"client-{tenant.Id}", ["client_secret"] = "dev-secret" },
            headers = new Dictionary<string, string> { ["accept-language"] = "zh-CN" },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False((await TestApi.ReadJsonAsync(response))["active"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("""{"method":"GET","path":"userinfo","form":{"a":"b"}}""", "form")]
    [InlineData("""{"method":"POST","path":"userinfo","form":{"a":"b"},"body":{"a":"b"}}""", "form")]
    [InlineData("""{"method":"POST","path":"userinfo","form":{"a":"b"},"headers":{"content-type":"text/plain"}}""", "headers.content-type")]
    public async Task A_form_with_get_or_with_a_json_body_or_its_own_content_type_is_a_400(string body, string field)
    {
        var (tenant, path) = await SignedInAsync();

        var problem = await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, body), HttpStatusCode.BadRequest, "invalid_request");

        Assert.Contains(field, problem.ToJsonString());
    }

    [Fact]
    public async Task An_upstream_error_status_is_relayed_as_it_is()
    {
        var (tenant, path) = await SignedInAsync();

        using var response = await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { method = "GET", path = "no-such-api" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.True(response.Headers.Contains(UpstreamEndpoints.UpstreamHeader));
    }

    [Theory]
    [InlineData("../admin/tenants")]
    [InlineData("%2e%2e/admin")]
    [InlineData("%252e%252e/admin")]
    [InlineData("a%2f..%2f..%2fadmin")]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/x")]
    [InlineData("userinfo@evil.example")]
    [InlineData("..\\admin")]
    [InlineData("http://localhost:8080/dev-idp/userinfo")]
    public async Task A_path_that_escapes_the_api_base_is_a_400_and_nothing_is_sent(string target)
    {
        var (tenant, path) = await SignedInAsync();

        using var response = await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { method = "GET", path = target });

        await TestApi.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.False(response.Headers.Contains(UpstreamEndpoints.UpstreamHeader));
    }

    [Fact]
    public async Task Bad_requests_unknown_sessions_and_other_tenants_are_refused_in_the_contract_order()
    {
        var (tenant, path) = await SignedInAsync();
        var other = await api.CreateTenantAsync("https://other.example/cb");

        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { method = "TRACE", path = "userinfo" }), HttpStatusCode.BadRequest);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { method = "GET" }), HttpStatusCode.BadRequest);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, null, new { method = "GET", path = "userinfo" }), HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, other.ApiKey, new { method = "GET", path = "userinfo" }), HttpStatusCode.NotFound);
        var unknown = path.Replace(path.Split('/')[5], new string('A', 43));
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, unknown, tenant.ApiKey, new { method = "GET", path = "userinfo" }), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_ended_session_cannot_call_upstream()
    {
        var (tenant, path) = await SignedInAsync();
        using var deleted = await api.SendAsync(HttpMethod.Delete, path[..path.LastIndexOf('/')], tenant.ApiKey);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        using var response = await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { method = "GET", path = "userinfo" });

        await TestApi.AssertProblemAsync(response, HttpStatusCode.Conflict, "session_ended");
    }

    public void Dispose() => api.Dispose();
}

using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>
/// docs/design.md §3 and §5 on the request line itself: a dot segment in any encoding is a 400 before
/// routing (the server would otherwise remove it and route <c>/api-keys/..</c> to the tenant), every
/// GET answers HEAD, and no route, wrong method or repeated browser parameter ends as anything but
/// the broker's own error shapes.
/// </summary>
public sealed class RequestTargetTests : IClassFixture<RequestTargetTests.KestrelFixture>, IDisposable
{
    private readonly BrokerTestHost host;
    private readonly TestApi api;

    public RequestTargetTests(KestrelFixture fixture)
    {
        host = fixture.Host;
        api = new TestApi(host) { };
        api.Http.BaseAddress = host.KestrelAddress;
    }

    public sealed class KestrelFixture : IDisposable
    {
        public BrokerTestHost Host { get; } = BrokerTestHost.StartKestrel();

        public void Dispose() => Host.Dispose();
    }

    [Theory]
    [InlineData("/api-keys/%2e%2e")]
    [InlineData("/api-keys/%2E%2e")]
    [InlineData("/api-keys/..")]
    [InlineData("/api-keys/.%2e")]
    [InlineData("/api-keys/%2e.")]
    [InlineData("/api-keys/%2e")]
    [InlineData("/./api-keys/x")]
    [InlineData("/api-keys/%2e%2e/")]
    public async Task A_dot_segment_in_any_encoding_is_400_and_deletes_nothing(string tail)
    {
        var tenant = await api.CreateTenantAsync();

        var answer = await RawHttp.SendAsync(host.KestrelAddress, $"DELETE /admin/tenants/{tenant.Id}{tail} HTTP/1.1\r\nAuthorization: Bearer {TestApi.Admin}");

        Assert.Equal(400, answer.Status);
        Assert.Equal("application/problem+json", answer.Header("Content-Type"));
        Assert.Contains("\"code\":\"invalid_request\"", answer.Body);
        using var stillThere = await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", TestApi.Admin);
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
    }

    [Theory]
    [InlineData("GET /t/acme/login/%2e%2e?state=x HTTP/1.1", "text/html")]
    [InlineData("GET /healthz/.. HTTP/1.1", "application/problem+json")]
    [InlineData("GET http://{authority}/admin/tenants/x/%2e%2e HTTP/1.1", "application/problem+json")]
    [InlineData("POST /api/tenants/acme/sessions/%2e%2e/exchange HTTP/1.1\r\nContent-Length: 0", "application/problem+json")]
    public async Task Dot_segments_are_refused_on_every_kind_of_route(string requestLine, string contentType)
    {
        var answer = await RawHttp.SendAsync(host.KestrelAddress, requestLine.Replace("{authority}", host.KestrelAddress.Authority));

        Assert.Equal(400, answer.Status);
        Assert.StartsWith(contentType, answer.Header("Content-Type"));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/metrics")]
    public async Task Every_get_route_answers_head_with_its_headers_and_no_body(string path)
    {
        using var head = await api.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        using var get = await api.Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Head_on_tenant_routes_is_authenticated_like_get()
    {
        var tenant = await api.CreateTenantAsync();

        using var head = await api.SendAsync(HttpMethod.Head, $"/api/tenants/{tenant.Id}/connections", tenant.ApiKey);
        using var unauthenticated = await api.SendAsync(HttpMethod.Head, $"/api/tenants/{tenant.Id}/connections", null);
        using var admin = await api.SendAsync(HttpMethod.Head, $"/admin/tenants/{tenant.Id}", TestApi.Admin);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Theory]
    [InlineData("POST", "/healthz")]
    [InlineData("PUT", "/healthz")]
    [InlineData("DELETE", "/readyz")]
    [InlineData("TRACE", "/readyz")]
    [InlineData("DELETE", "/openapi/v1.json")]
    [InlineData("PUT", "/admin/tenants")]
    public async Task A_wrong_method_is_a_problem_405(string method, string path)
    {
        using var answer = await api.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await TestApi.AssertProblemAsync(answer, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Theory]
    [InlineData("/api/nothing-here")]
    [InlineData("/admin")]
    [InlineData("/robots.txt")]
    public async Task An_unknown_route_is_a_problem_404_with_the_brokers_code(string path)
    {
        await TestApi.AssertProblemAsync(await api.Http.GetAsync(path), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task An_unknown_browser_route_is_an_error_page()
    {
        await TestApi.AssertErrorPageAsync(await api.Http.GetAsync("/t/acme/nothing-here"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("state=a&state=b")]
    [InlineData("return_to=https%3A%2F%2Fa.example%2F&return_to=https%3A%2F%2Fb.example%2F")]
    [InlineData("connection=dev&connection=other")]
    public async Task A_repeated_query_parameter_on_a_browser_route_is_an_error_page(string query)
    {
        var tenant = await api.CreateTenantAsync();

        await TestApi.AssertErrorPageAsync(await api.Http.GetAsync($"/t/{tenant.Id}/login?{query}"), HttpStatusCode.BadRequest);
        await TestApi.AssertErrorPageAsync(await api.Http.GetAsync($"/t/{tenant.Id}/logout?{query}"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_bearer_too_long_to_be_a_token_is_refused_as_invalid_token()
    {
        var tenant = await api.CreateTenantAsync();

        using var answer = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", new string('k', 600));

        await TestApi.AssertProblemAsync(answer, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Bearer error=\"invalid_token\"", answer.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task The_openapi_document_names_the_public_url_whatever_the_host_header()
    {
        var answer = await RawHttp.SendAsync(host.KestrelAddress, "GET /openapi/v1.json HTTP/1.1\r\nX-Forwarded-Host: evil.example");
        var forged = await RawHttp.SendAsync(new Uri($"http://127.0.0.1:{host.KestrelAddress.Port}"), "GET /openapi/v1.json HTTP/1.1");

        foreach (var document in new[] { answer, forged })
        {
            Assert.Equal(200, document.Status);
            Assert.Contains($"\"url\": \"{BrokerTestHost.PublicBaseUrl.TrimEnd('/')}\"", document.Body);
            Assert.DoesNotContain("evil.example", document.Body);
            Assert.DoesNotContain("127.0.0.1", document.Body);
        }
    }

    public void Dispose() => api.Dispose();
}

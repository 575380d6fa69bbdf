using System.Net;
using Broker.Api.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Api.Tests;

/// <summary>
/// A budget per minute (here 2) per client IP for each of login and callback, and per tenant for
/// exchange. Each test uses its own client addresses (X-Forwarded-For) and tenants, so budgets never
/// leak between tests.
/// </summary>
public sealed class RateLimitTests(RateLimitTests.TinyBudget fixture) : IClassFixture<RateLimitTests.TinyBudget>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    public sealed class TinyBudget : IDisposable
    {
        public BrokerTestHost Host { get; } = new(new Dictionary<string, string?>
        {
            ["Broker:RateLimit:PermitsPerMinute"] = "2",
            ["Broker:RateLimit:ExchangePermitsPerMinute"] = "2",
        });

        public void Dispose() => Host.Dispose();
    }

    [Fact]
    public async Task Login_is_limited_per_client_ip_with_an_html_429_and_retry_after()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var login = QueryHelpers.AddQueryString($"/t/{tenant.Id}/login", "state", "s");

        Assert.Equal(HttpStatusCode.Redirect, (await api.GetAsync(login, "10.1.0.1")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await api.GetAsync(login, "10.1.0.1")).StatusCode);
        using var limited = await api.GetAsync(login, "10.1.0.1");

        await TestApi.AssertErrorPageAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After in seconds");
        // Another address has its own budget; a malformed request is still a 400 first (§6 order).
        Assert.Equal(HttpStatusCode.Redirect, (await api.GetAsync(login, "10.1.0.2")).StatusCode);
        await TestApi.AssertErrorPageAsync(await api.GetAsync("/t/BAD/login", "10.1.0.1"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_providers_authorize_and_token_are_limited_per_client_ip()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/app", tenant.ApiKey, new { redirectUris = new[] { "https://app.example/cb" } })).EnsureSuccessStatusCode();
        var authorize = QueryHelpers.AddQueryString($"/t/{tenant.Id}/authorize", new Dictionary<string, string?>
        {
            ["client_id"] = "app", ["redirect_uri"] = "https://app.example/cb", ["response_type"] = "code", ["scope"] = "openid",
        });

        Assert.Equal(HttpStatusCode.Redirect, (await api.GetAsync(authorize, "10.5.0.1")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await api.GetAsync(authorize, "10.5.0.1")).StatusCode);
        using (var limited = await api.GetAsync(authorize, "10.5.0.1"))
        {
            await TestApi.AssertErrorPageAsync(limited, HttpStatusCode.TooManyRequests);
            Assert.NotNull(limited.Headers.RetryAfter);
        }
        Assert.Equal(HttpStatusCode.Redirect, (await api.GetAsync(authorize, "10.5.0.2")).StatusCode);

        async Task<HttpResponseMessage> Token(string ip)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/t/{tenant.Id}/token")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["code"] = new string('A', 43), ["client_id"] = "app" }),
            };
            request.Headers.Add("X-Forwarded-For", ip);
            return await api.Http.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await Token("10.5.0.3")).StatusCode); // no secret: invalid_client
        Assert.Equal(HttpStatusCode.Unauthorized, (await Token("10.5.0.3")).StatusCode);
        using var limitedToken = await Token("10.5.0.3");
        Assert.Equal(HttpStatusCode.TooManyRequests, limitedToken.StatusCode);
        Assert.Equal("temporarily_unavailable", (await TestApi.ReadJsonAsync(limitedToken))["error"]!.GetValue<string>());
        Assert.NotNull(limitedToken.Headers.RetryAfter);
    }

    [Fact]
    public async Task Callback_is_limited_before_the_state_is_looked_up()
    {
        var tenant = await api.CreateTenantAsync();
        var callback = $"/t/{tenant.Id}/callback?code=c&state={new string('A', 43)}";

        await TestApi.AssertErrorPageAsync(await api.GetAsync(callback, "10.2.0.1"), HttpStatusCode.BadRequest);
        await TestApi.AssertErrorPageAsync(await api.GetAsync(callback, "10.2.0.1"), HttpStatusCode.BadRequest);
        using var limited = await api.GetAsync(callback, "10.2.0.1");

        await TestApi.AssertErrorPageAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.NotNull(limited.Headers.RetryAfter);
    }

    [Fact]
    public async Task Exchange_is_limited_per_tenant_whatever_the_address_with_a_problem_429()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var code = TestApi.Param(await api.SignInAsync(tenant, clientIp: "10.3.0.1"), "code")!;
        var path = $"/api/tenants/{tenant.Id}/sessions/exchange";
        var unknownCode = new string('B', 43);

        // Every request counts against the budget, even those refused for another reason.
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { code = unknownCode }, "10.3.0.2"), HttpStatusCode.BadRequest, "invalid_grant");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { code = unknownCode }, "10.3.0.3"), HttpStatusCode.BadRequest, "invalid_grant");
        using var limited = await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { code }, "10.3.0.4");

        await TestApi.AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // Another tenant's back end, from the same address, has its own budget.
        var other = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(other);
        var otherCode = TestApi.Param(await api.SignInAsync(other, clientIp: "10.3.0.5"), "code")!;
        using var elsewhere = await api.SendAsync(HttpMethod.Post, $"/api/tenants/{other.Id}/sessions/exchange", other.ApiKey, new { code = otherCode }, "10.3.0.4");
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
    }

    [Fact]
    public async Task Other_routes_are_not_limited()
    {
        var tenant = await api.CreateTenantAsync();
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections", tenant.ApiKey, clientIp: "10.4.0.1")).StatusCode);
    }

    public void Dispose() => api.Dispose();
}

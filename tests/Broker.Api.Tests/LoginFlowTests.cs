using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Api.Tests;

/// <summary>The whole browser login through the dev IdP, then what the app's back end does with it.</summary>
public sealed class LoginFlowTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task Login_exchange_session_token_and_logout_end_to_end()
    {
        var tenant = await api.CreateTenantAsync("https://app.example/cb");
        await api.PutDevConnectionAsync(tenant);

        var back = await api.SignInAsync(tenant, "alice", appState: "xyz 123", returnTo: "https://app.example/cb?tab=home");
        Assert.Equal("https://app.example/cb", back.GetLeftPart(UriPartial.Path));
        Assert.Equal("home", TestApi.Param(back, "tab"));
        Assert.Equal("xyz 123", TestApi.Param(back, "state"));
        var code = TestApi.Param(back, "code")!;

        var root = $"/api/tenants/{tenant.Id}";
        using var exchanged = await api.SendAsync(HttpMethod.Post, $"{root}/sessions/exchange", tenant.ApiKey, new { code });
        Assert.Equal(HttpStatusCode.OK, exchanged.StatusCode);
        var exchange = await TestApi.ReadJsonAsync(exchanged);
        Assert.Equal(["sessionId", "user", "expiresAt"], exchange.Select(p => p.Key));
        var sessionId = exchange["sessionId"]!.GetValue<string>();
        AssertUser(exchange["user"]!.AsObject(), "alice");

        using var read = await api.SendAsync(HttpMethod.Get, $"{root}/sessions/{sessionId}", tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var viewText = await read.Content.ReadAsStringAsync();
        var view = JsonNode.Parse(viewText)!.AsObject();
        Assert.Equal(["sessionId", "status", "endReason", "user", "createdAt", "expiresAt", "accessTokenExpiresAt", "refreshedAt"], view.Select(p => p.Key));
        Assert.Equal(sessionId, view["sessionId"]!.GetValue<string>());
        Assert.Equal("active", view["status"]!.GetValue<string>());
        Assert.Null(view["endReason"]);
        Assert.Null(view["refreshedAt"]);
        Assert.Equal(exchange["expiresAt"]!.GetValue<string>(), view["expiresAt"]!.GetValue<string>());
        foreach (var time in new[] { "createdAt", "expiresAt", "accessTokenExpiresAt" })
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", view[time]!.GetValue<string>());
        AssertUser(view["user"]!.AsObject(), "alice");

        using var tokenResponse = await api.SendAsync(HttpMethod.Get, $"{root}/sessions/{sessionId}/token", tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        Assert.Equal("no-store", tokenResponse.Headers.CacheControl?.ToString());
        var token = await TestApi.ReadJsonAsync(tokenResponse);
        Assert.Equal(["accessToken", "tokenType", "expiresAt", "scope"], token.Select(p => p.Key));
        Assert.False(string.IsNullOrEmpty(token["accessToken"]!.GetValue<string>()));
        Assert.Equal("Bearer", token["tokenType"]!.GetValue<string>(), ignoreCase: true);
        Assert.DoesNotContain(token["accessToken"]!.GetValue<string>(), viewText);

        using var refreshed = await api.SendAsync(HttpMethod.Post, $"{root}/sessions/{sessionId}/refresh", tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var afterRefresh = await TestApi.ReadJsonAsync(refreshed);
        Assert.Equal("active", afterRefresh["status"]!.GetValue<string>());
        Assert.NotNull(afterRefresh["refreshedAt"]);
        Assert.False(afterRefresh.ContainsKey("accessToken"));
        Assert.DoesNotContain(token["accessToken"]!.GetValue<string>(), afterRefresh.ToJsonString());

        using var deleted = await api.SendAsync(HttpMethod.Delete, $"{root}/sessions/{sessionId}", tenant.ApiKey);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var ended = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"{root}/sessions/{sessionId}", tenant.ApiKey));
        Assert.Equal("ended", ended["status"]!.GetValue<string>());
        Assert.Equal("logout", ended["endReason"]!.GetValue<string>());
        var afterEnd = await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"{root}/sessions/{sessionId}/token", tenant.ApiKey), HttpStatusCode.Conflict, "session_ended");
        Assert.Equal("logout", afterEnd["endReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_replayed_callback_gets_a_400_page_and_no_code()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        using var toProvider = await api.GetAsync(QueryHelpers.AddQueryString($"/t/{tenant.Id}/login", "state", "s"));
        var callback = await api.ApproveAtDevIdpAsync(toProvider.Headers.Location!, "bob");

        using var first = await api.GetAsync(callback.PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.NotNull(TestApi.Param(first.Headers.Location!, "code"));

        using var second = await api.GetAsync(callback.PathAndQuery);
        await TestApi.AssertErrorPageAsync(second, HttpStatusCode.BadRequest);
        Assert.DoesNotContain("code=", await second.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("?code=abc")]
    [InlineData("?code=abc&state=short")]
    [InlineData("?code=abc&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("?error=access_denied&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task An_unknown_or_malformed_state_gets_a_400_page(string query)
    {
        var tenant = await api.CreateTenantAsync();
        await TestApi.AssertErrorPageAsync(await api.GetAsync($"/t/{tenant.Id}/callback{query}"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_denied_login_goes_back_to_the_app_with_the_error_and_state()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        using var toProvider = await api.GetAsync(QueryHelpers.AddQueryString($"/t/{tenant.Id}/login", "state", "s1"));
        var callback = await api.ApproveAtDevIdpAsync(toProvider.Headers.Location!, "bob", action: "deny");

        using var back = await api.GetAsync(callback.PathAndQuery);

        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        Assert.Equal("access_denied", TestApi.Param(back.Headers.Location!, "error"));
        Assert.Equal("s1", TestApi.Param(back.Headers.Location!, "state"));
        Assert.Null(TestApi.Param(back.Headers.Location!, "code"));
    }

    [Fact]
    public async Task A_code_is_single_use_and_an_unauthenticated_exchange_does_not_use_it_up()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var code = TestApi.Param(await api.SignInAsync(tenant), "code")!;
        var path = $"/api/tenants/{tenant.Id}/sessions/exchange";

        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, null, new { code }), HttpStatusCode.Unauthorized);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, "wrong", new { code }), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { code })).StatusCode);

        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { code }), HttpStatusCode.BadRequest, "invalid_grant");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { code = "not-a-code" }), HttpStatusCode.BadRequest, "invalid_grant");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { }), HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Another_tenants_code_is_invalid_grant()
    {
        var owner = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(owner);
        var other = await api.CreateTenantAsync();
        var code = TestApi.Param(await api.SignInAsync(owner), "code")!;

        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, $"/api/tenants/{other.Id}/sessions/exchange", other.ApiKey, new { code }), HttpStatusCode.BadRequest, "invalid_grant");
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Post, $"/api/tenants/{owner.Id}/sessions/exchange", owner.ApiKey, new { code })).StatusCode);
    }

    [Fact]
    public async Task Users_sessions_are_listed_and_ended_together_as_revoked()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var (first, exchange) = await api.SignInAndExchangeAsync(tenant, "carol");
        var (second, _) = await api.SignInAndExchangeAsync(tenant, "carol");
        var userId = exchange["user"]!["id"]!.GetValue<string>();
        var path = $"/api/tenants/{tenant.Id}/users/{userId}/sessions";

        var list = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, path, tenant.ApiKey));
        Assert.Equal(new[] { first, second }.Order(), list["items"]!.AsArray().Select(i => i!["sessionId"]!.GetValue<string>()).Order());

        Assert.Equal(HttpStatusCode.NoContent, (await api.SendAsync(HttpMethod.Delete, path, tenant.ApiKey)).StatusCode);
        foreach (var session in new[] { first, second })
        {
            var view = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{session}", tenant.ApiKey));
            Assert.Equal("revoked", view["endReason"]!.GetValue<string>());
        }
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users/usr_{new string('0', 32)}/sessions", tenant.ApiKey), HttpStatusCode.NotFound);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users/alice/sessions", tenant.ApiKey), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Browser_logout_ends_the_named_session_and_returns_to_the_app()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var (sessionId, _) = await api.SignInAndExchangeAsync(tenant);

        using var logout = await api.GetAsync(QueryHelpers.AddQueryString($"/t/{tenant.Id}/logout", new Dictionary<string, string?> { ["return_to"] = tenant.ReturnUrl, ["session"] = sessionId }));

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(tenant.ReturnUrl, logout.Headers.Location!.OriginalString);
        var view = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{sessionId}", tenant.ApiKey));
        Assert.Equal("logout", view["endReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Session_routes_answer_404_for_unknown_and_400_for_malformed_sessions()
    {
        var tenant = await api.CreateTenantAsync();
        var unknown = new string('A', 43);
        foreach (var suffix in new[] { "", "/token" })
        {
            await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{unknown}{suffix}", tenant.ApiKey), HttpStatusCode.NotFound);
            await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/short{suffix}", tenant.ApiKey), HttpStatusCode.BadRequest);
        }
    }

    private static void AssertUser(JsonObject user, string subject)
    {
        Assert.Equal(["id", "subject", "connection", "name", "email", "avatarUrl", "raw"], user.Select(p => p.Key));
        Assert.StartsWith("usr_", user["id"]!.GetValue<string>());
        Assert.Equal(subject, user["subject"]!.GetValue<string>());
        Assert.Equal("dev", user["connection"]!.GetValue<string>());
        Assert.Equal($"{subject}@example.com", user["email"]!.GetValue<string>());
        Assert.IsType<JsonObject>(user["raw"]);
    }

    public void Dispose() => api.Dispose();
}

using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>POST .../sessions/{s}/introspect against the dev IdP's RFC 7662 endpoint.</summary>
public sealed class IntrospectionTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task A_token_revoked_at_the_provider_shows_inactive_and_ends_the_session_as_revoked()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        var (session, _) = await api.SignInAndExchangeAsync(tenant, "quinn");
        var path = $"/api/tenants/{tenant.Id}/sessions/{session}";

        using (var active = await api.SendAsync(HttpMethod.Post, path + "/introspect", tenant.ApiKey))
        {
            Assert.Equal(HttpStatusCode.OK, active.StatusCode);
            var body = await TestApi.ReadJsonAsync(active);
            Assert.Equal((true, "active"), (body["active"]!.GetValue<bool>(), body["session"]!["status"]!.GetValue<string>()));
        }

        // The provider revokes the token behind the broker's back (a user signing out elsewhere, an admin).
        var token = (await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, path + "/token", tenant.ApiKey)))["accessToken"]!.GetValue<string>();
        using (var revoked = await api.Http.PostAsync("/dev-idp/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = token, ["client_id"] = $"client-{tenant.Id}", ["client_secret"] = "dev-secret",
        })))
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);

        using var inactive = await api.SendAsync(HttpMethod.Post, path + "/introspect", tenant.ApiKey);

        Assert.Equal(HttpStatusCode.OK, inactive.StatusCode);
        var after = await TestApi.ReadJsonAsync(inactive);
        Assert.False(after["active"]!.GetValue<bool>());
        Assert.Equal(("ended", "revoked"), (after["session"]!["status"]!.GetValue<string>(), after["session"]!["endReason"]!.GetValue<string>()));
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, path + "/token", tenant.ApiKey), HttpStatusCode.Conflict, "session_ended");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path + "/introspect", tenant.ApiKey), HttpStatusCode.Conflict, "session_ended");
    }

    [Fact]
    public async Task A_provider_without_introspection_is_409_and_the_session_stays_active()
    {
        var tenant = await api.CreateTenantAsync();
        // Plain OAuth 2.0 against the dev IdP, with no introspection endpoint named.
        using (var put = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/plain", tenant.ApiKey, new
        {
            type = "oauth2", clientId = $"client-{tenant.Id}", clientSecret = "dev-secret",
            endpoints = new { authorize = "http://localhost/dev-idp/authorize", token = "http://localhost/dev-idp/token", userinfo = "http://localhost/dev-idp/userinfo" },
        }))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var (session, _) = await api.SignInAndExchangeAsync(tenant, "rosa");
        var path = $"/api/tenants/{tenant.Id}/sessions/{session}";

        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Post, path + "/introspect", tenant.ApiKey), HttpStatusCode.Conflict, "no_introspection");
        Assert.Equal("active", (await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, path, tenant.ApiKey)))["status"]!.GetValue<string>());
    }

    public void Dispose() => api.Dispose();
}

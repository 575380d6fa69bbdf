using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Broker.Testing.Upstreams;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Silo.Tests.EndToEnd;

/// <summary>
/// The broker as a real process against real upstream servers on loopback: the in-test fake OIDC
/// provider (Kestrel) and the npm package <c>oidc-provider</c>, a certified third-party OpenID
/// provider. Refresh is observed with a short upstream token lifetime; logout is observed at the
/// provider, whose introspection says the token is no longer active.
/// </summary>
public sealed class RealUpstreamTests
{
    private const string Tenant = "e2e";

    [Fact]
    public async Task Against_the_fake_oidc_provider_a_login_refreshes_and_logout_revokes_upstream()
    {
        await using var provider = await FakeOidcProvider.StartAsync(TimeProvider.System);
        provider.AccessTokenLifetime = TimeSpan.FromSeconds(8);
        await using var broker = await BrokerUnderTest.StartAsync(BrokerUnderTest.ReservePort(), Tenant);
        await RegisterAsync(broker, provider.OidcConnection());

        var session = await broker.LogInAsync(async authorize =>
        {
            var query = await provider.FollowAuthorizeAsync(authorize);
            return new Uri(QueryHelpers.AddQueryString(broker.CallbackUrl, query!));
        });

        await ObserveRefreshAndLogoutAsync(broker, session, provider.ClientId, provider.ClientSecret, new Uri(provider.Issuer + "/introspect"));
        Assert.Contains(provider.RequestsTo("/token"), r => r.Form.GetValueOrDefault("grant_type") == "refresh_token");
    }

    [Fact]
    public async Task Against_the_npm_oidc_provider_a_login_refreshes_and_logout_revokes_upstream()
    {
        var port = BrokerUnderTest.ReservePort();
        await using var provider = await NodeOidcProvider.StartAsync(new NodeOidcProviderOptions
        {
            RedirectUris = [$"http://127.0.0.1:{port}/t/{Tenant}/callback"],
            AccessTokenLifetime = TimeSpan.FromSeconds(8),
        });
        await using var broker = await BrokerUnderTest.StartAsync(port, Tenant);
        // oidc-provider issues refresh tokens for offline_access, which it grants only with prompt=consent.
        await RegisterAsync(broker, provider.OidcConnection() with
        {
            Scopes = ["openid", "profile", "email", "offline_access"],
            ExtraAuthorizeParams = new Dictionary<string, string> { ["prompt"] = "consent" },
        });

        var session = await broker.LogInAsync(async authorize => new Uri(await provider.SignInAsync(authorize, "dora")));

        var view = await broker.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}/sessions/{session}");
        Assert.Equal("dora", view["user"]!["subject"]!.GetValue<string>());
        Assert.Equal("dora@example.test", view["user"]!["email"]!.GetValue<string>());
        var discovery = await new HttpClient().GetFromJsonAsyncSafe(new Uri(provider.Issuer, ".well-known/openid-configuration"));
        await ObserveRefreshAndLogoutAsync(broker, session, provider.ClientId, provider.ClientSecret,
            new Uri(discovery["introspection_endpoint"]!.GetValue<string>()));
    }

    private static async Task RegisterAsync(BrokerUnderTest broker, Broker.Grains.Connectors.ConnectionConfig connection)
    {
        using var put = await broker.SendAsync(HttpMethod.Put, $"/api/tenants/{Tenant}/connections/main", new
        {
            type = "oidc",
            clientId = connection.ClientId,
            clientSecret = connection.ClientSecret,
            issuer = connection.Issuer,
            scopes = connection.Scopes,
            tokenEndpointAuthMethod = connection.TokenEndpointAuthMethod,
            extraAuthorizeParams = connection.ExtraAuthorizeParams,
        });
        Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
        // Tokens of 8 s are refreshed at half their life (docs/design.md §6).
        using var patch = await broker.SendAsync(HttpMethod.Patch, $"/api/tenants/{Tenant}", new { sessionPolicy = new { refreshLeadSeconds = 5 } });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
    }

    private static async Task ObserveRefreshAndLogoutAsync(BrokerUnderTest broker, string session, string clientId, string clientSecret, Uri introspection)
    {
        var sessionPath = $"/api/tenants/{Tenant}/sessions/{session}";
        var first = (await broker.JsonAsync(HttpMethod.Get, $"{sessionPath}/token"))["accessToken"]!.GetValue<string>();
        Assert.True(await IsActiveAsync(introspection, clientId, clientSecret, first));

        // The session's reminder refreshes the token by itself; nobody asks for it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonObject view;
        do
        {
            await Task.Delay(500);
            view = await broker.JsonAsync(HttpMethod.Get, sessionPath);
        } while (view["refreshedAt"] is null && DateTime.UtcNow < deadline);
        Assert.NotNull(view["refreshedAt"]);
        Assert.Equal("active", view["status"]!.GetValue<string>());
        var second = (await broker.JsonAsync(HttpMethod.Get, $"{sessionPath}/token"))["accessToken"]!.GetValue<string>();
        Assert.NotEqual(first, second);

        using var deleted = await broker.SendAsync(HttpMethod.Delete, sessionPath);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(await IsActiveAsync(introspection, clientId, clientSecret, second), "logout revoked the token at the provider");
        view = await broker.JsonAsync(HttpMethod.Get, sessionPath);
        Assert.Equal(("ended", "logout"), (view["status"]!.GetValue<string>(), view["endReason"]!.GetValue<string>()));
    }

    /// <summary>RFC 7662 introspection at the provider, with the client's own credentials.</summary>
    private static async Task<bool> IsActiveAsync(Uri endpoint, string clientId, string clientSecret, string token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(clientSecret)}")));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return body["active"]!.GetValue<bool>();
    }
}

internal static class HttpJson
{
    public static async Task<JsonObject> GetFromJsonAsyncSafe(this HttpClient http, Uri url)
    {
        using (http)
            return JsonNode.Parse(await http.GetStringAsync(url))!.AsObject();
    }
}

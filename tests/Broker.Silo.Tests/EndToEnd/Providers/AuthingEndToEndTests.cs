using System.Text;
using System.Text.Json.Nodes;
using Broker.Testing.Upstreams.Providers;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Silo.Tests.EndToEnd.Providers;

/// <summary>
/// An Authing app through a silo process and <see cref="FakeAuthing"/>, in both protocols: the app
/// host's <c>/{oidc|oauth}/</c> paths with client_secret_post, the id_token (RS256 via the JWKS) in
/// OIDC mode, the session's own refresh with rotating refresh tokens, <c>/{p}/me</c> through the
/// upstream proxy, logout revoked at <c>/{p}/token/revocation</c>, and the browser's logout at
/// <c>/oidc/session/end</c> or <c>/login/profile/logout</c>.
/// </summary>
public sealed class AuthingEndToEndTests
{
    private static JsonObject Connection(FakeAuthing fake, string protocol) => new()
    {
        ["type"] = "authing",
        ["clientId"] = fake.ClientId,
        ["clientSecret"] = fake.ClientSecret,
        ["baseUrl"] = fake.Upstream.BaseUrl,
        ["apiBaseUrl"] = fake.Upstream.BaseUrl + "/", // /{p}/me lives at the app host's root
        // No tokenEndpointAuthMethod and no prompt: Authing's defaults (client_secret_post everywhere,
        // prompt=consent with offline_access) must carry the whole flow.
        ["scopes"] = protocol == "oidc" ? new JsonArray("openid", "profile", "email", "offline_access") : new JsonArray(),
        ["options"] = new JsonObject { ["protocol"] = protocol },
    };

    [Theory]
    [InlineData("oidc")]
    [InlineData("oauth")]
    public async Task Login_refresh_profile_api_logout_revoked_and_browser_logout(string protocol)
    {
        await using var fake = await FakeAuthing.StartAsync(TimeProvider.System);
        fake.AccessTokenLifetime = TimeSpan.FromSeconds(4);
        foreach (var endpoint in new[] { "token", "revocation" })
            fake.RequiredAuthMethod[endpoint] = "client_secret_post";
        await using var broker = await ProviderBroker.StartAsync("authing-" + protocol, Connection(fake, protocol));

        var session = await broker.LogInAsync();
        fake.AccessTokenLifetime = TimeSpan.FromHours(1);

        var authorize = Assert.Single(fake.Upstream.RequestsTo($"/{protocol}/auth")).Request;
        Assert.Equal(protocol == "oidc" ? "openid profile email offline_access" : "user", authorize.Query["scope"]);
        // By default only with offline_access (the OIDC protocol here), where Authing needs it for a refresh token.
        Assert.Equal(protocol == "oidc" ? "consent" : null, authorize.Query.GetValueOrDefault("prompt"));
        Assert.Equal("S256", authorize.Query["code_challenge_method"]);
        Assert.Equal("client_secret_post", fake.SeenAuthMethod["token"]);
        Assert.Empty(fake.Upstream.RequestsTo(protocol == "oidc" ? "/oauth/token" : "/oidc/token"));
        Assert.Single(fake.Upstream.RequestsTo($"/{protocol}/me"));

        var view = await broker.ViewAsync(session);
        var raw = ProviderBroker.AssertUser(view, "6177authinguser", "Ada", "ada@example.com", "https://files.authing.co/ada.png");
        Assert.Equal("ada", raw["nickname"]!.GetValue<string>()); // from /{p}/me
        if (protocol == "oidc")
        {
            Assert.Equal(fake.Upstream.BaseUrl + "/oidc", raw["iss"]!.GetValue<string>()); // the id_token's claims
            Assert.NotEmpty(fake.Upstream.RequestsTo("/oidc/.well-known/jwks.json"));
        }
        Assert.Null(view["refreshedAt"]);

        await broker.WaitForRefreshAsync(session, ProviderBroker.LongLived);
        var refreshes = ProviderBroker.Grants(fake.Upstream, $"/{protocol}/token", "refresh_token");
        Assert.All(refreshes, r => Assert.Equal((fake.ClientId, fake.ClientSecret), (r.Request.Form["client_id"], r.Request.Form["client_secret"])));
        Assert.Equal(refreshes.Count, refreshes.Select(r => r.Request.Form["refresh_token"]).Distinct().Count()); // rotated, single use

        // /{p}/me through the proxy with the Bearer token.
        var token = await broker.AccessTokenAsync(session);
        var answer = await broker.CallUpstreamAsync(session, new JsonObject { ["method"] = "GET", ["path"] = $"{protocol}/me" });
        Assert.Equal($"Bearer {token}", fake.Upstream.RequestsTo($"/{protocol}/me")[^1].Request.Authorization);
        Assert.Equal("6177authinguser", answer.Json["sub"]!.GetValue<string>());
        ProviderBroker.AssertRelayed(await ProviderBroker.DirectAsync(ProviderBroker.Bearer(HttpMethod.Get, $"{fake.Upstream.BaseUrl}/{protocol}/me", token)), answer);

        // The back end logs out: both tokens revoked at the fake before the DELETE answers.
        Assert.True(fake.IsActive(token));
        await broker.LogOutAsync(session);
        Assert.False(fake.IsActive(token));
        var revoked = fake.Upstream.RequestsTo($"/{protocol}/token/revocation").Select(r => r.Request.Form["token"]).ToArray();
        Assert.Contains(token, revoked);
        Assert.Equal(2, revoked.Length); // the refresh token too

        // The browser logs out a second session: revoked too, and sent to Authing's logout page.
        var second = await broker.LogInAsync();
        var secondToken = await broker.AccessTokenAsync(second);
        var logout = await broker.BrowserLogOutAsync(second);

        Assert.False(fake.IsActive(secondToken));
        var query = QueryHelpers.ParseQuery(logout.Query);
        if (protocol == "oidc")
        {
            Assert.Equal($"{fake.Upstream.BaseUrl}/oidc/session/end", logout.GetLeftPart(UriPartial.Path));
            Assert.Equal(ProviderBroker.SignedOutUrl, query["post_logout_redirect_uri"]);
            Assert.Equal(fake.ClientId, query["client_id"]);
            var hint = JsonNode.Parse(Encoding.UTF8.GetString(Base64UrlDecode(query["id_token_hint"].ToString().Split('.')[1])))!;
            Assert.Equal(("6177authinguser", fake.ClientId), (hint["sub"]!.GetValue<string>(), hint["aud"]!.GetValue<string>()));
        }
        else
        {
            Assert.Equal($"{fake.Upstream.BaseUrl}/login/profile/logout", logout.GetLeftPart(UriPartial.Path));
            Assert.Equal(ProviderBroker.SignedOutUrl, query["redirect_uri"]);
        }
        var signedOut = await ProviderBroker.DirectAsync(new HttpRequestMessage(HttpMethod.Get, logout));
        Assert.Equal(System.Net.HttpStatusCode.OK, signedOut.Status);
    }

    private static byte[] Base64UrlDecode(string text) => Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlDecode(text);
}

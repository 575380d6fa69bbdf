using System.Text.Json.Nodes;
using Broker.Testing.Upstreams.Providers;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Silo.Tests.EndToEnd.Providers;

/// <summary>
/// jAccount through a silo process and <see cref="FakeJAccount"/>: the HS256 id_token login, the
/// session's own refresh (credentials in the form body, the refresh token kept), the REST API with
/// its errno envelope through the upstream proxy (errno 10007 with HTTP 200: refresh and retry), and
/// both logouts (jAccount has no revocation; the browser goes to <c>/oauth2/logout</c>).
/// </summary>
public sealed class JAccountEndToEndTests
{
    private static JsonObject Connection(FakeJAccount fake) => new()
    {
        ["type"] = "jaccount",
        ["clientId"] = fake.ClientId,
        ["clientSecret"] = fake.ClientSecret,
        ["scopes"] = new JsonArray("openid", "basic"),
        ["baseUrl"] = fake.Upstream.BaseUrl,
        ["apiBaseUrl"] = fake.Upstream.BaseUrl + "/",
    };

    [Fact]
    public async Task Login_refresh_profile_api_with_errno_retry_and_logout()
    {
        await using var fake = await FakeJAccount.StartAsync(TimeProvider.System);
        fake.AccessTokenLifetime = TimeSpan.FromSeconds(4);
        await using var broker = await ProviderBroker.StartAsync("sjtu", Connection(fake));

        var session = await broker.LogInAsync();
        fake.AccessTokenLifetime = TimeSpan.FromHours(1); // the refresh brings a long-lived token: nothing moves under the checks below

        var authorize = Assert.Single(fake.Upstream.RequestsTo("/oauth2/authorize")).Request;
        Assert.Equal("openid basic", authorize.Query["scope"]);
        Assert.Equal(broker.Broker.CallbackUrl, authorize.Query["redirect_uri"]);
        Assert.False(string.IsNullOrEmpty(authorize.Query["nonce"]));
        Assert.Equal("S256", authorize.Query["code_challenge_method"]);
        var code = Assert.Single(ProviderBroker.Grants(fake.Upstream, "/oauth2/token", "authorization_code")).Request;
        Assert.Null(code.Authorization); // client credentials in the form body
        Assert.Equal(fake.ClientSecret, code.Form["client_secret"]);

        var view = await broker.ViewAsync(session);
        var raw = ProviderBroker.AssertUser(view, "zhangsan", "张三", email: null, avatarUrl: null);
        Assert.Equal("518030910001", raw["code"]!.GetValue<string>()); // the id_token's own claims
        Assert.Equal("student", raw["type"]!.GetValue<string>());
        Assert.Null(view["refreshedAt"]);
        Assert.InRange(view["accessTokenExpiresAt"]!.GetValue<DateTimeOffset>(), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(5));

        // The session refreshes by itself at half the token's life.
        await broker.WaitForRefreshAsync(session, ProviderBroker.LongLived);
        var refresh = ProviderBroker.Grants(fake.Upstream, "/oauth2/token", "refresh_token")[0].Request;
        Assert.Null(refresh.Authorization);
        Assert.Equal(fake.ClientId, refresh.Form["client_id"]);
        Assert.Equal(fake.ClientSecret, refresh.Form["client_secret"]);
        Assert.False(string.IsNullOrEmpty(refresh.Form["refresh_token"]));

        // The REST API through the proxy: Bearer, the errno envelope relayed unchanged.
        var token = await broker.AccessTokenAsync(session);
        var profile = new JsonObject { ["method"] = "GET", ["path"] = "v1/me/profile" };
        var answer = await broker.CallUpstreamAsync(session, profile);
        Assert.Equal($"Bearer {token}", fake.Upstream.RequestsTo("/v1/me/profile")[^1].Request.Authorization);
        Assert.Equal(0, answer.Json["errno"]!.GetValue<int>());
        Assert.Equal("zhangsan", answer.Json["entities"]![0]!["account"]!.GetValue<string>());
        ProviderBroker.AssertRelayed(await ProviderBroker.DirectAsync(ProviderBroker.Bearer(HttpMethod.Get, $"{fake.Upstream.BaseUrl}/v1/me/profile", token)), answer);

        // errno 10007 (expired) arrives with HTTP 200: the broker refreshes once and retries once.
        var refreshedAt = (await broker.ViewAsync(session))["refreshedAt"]!.GetValue<DateTimeOffset>();
        var refreshes = ProviderBroker.Grants(fake.Upstream, "/oauth2/token", "refresh_token").Count;
        var calls = fake.Upstream.RequestsTo("/v1/me/profile").Count;
        fake.ExpireAccessTokens();
        var retried = await broker.CallUpstreamAsync(session, profile);

        Assert.Equal("true", retried.Marker);
        Assert.Equal(0, retried.Json["errno"]!.GetValue<int>());
        var sent = fake.Upstream.RequestsTo("/v1/me/profile").Skip(calls).Select(r => r.Request.Authorization).ToArray();
        var fresh = await broker.AccessTokenAsync(session);
        Assert.Equal(new[] { $"Bearer {token}", $"Bearer {fresh}" }, sent.Select(s => s ?? "(none)"));
        Assert.Equal(refreshes + 1, ProviderBroker.Grants(fake.Upstream, "/oauth2/token", "refresh_token").Count);
        Assert.True((await broker.ViewAsync(session))["refreshedAt"]!.GetValue<DateTimeOffset>() > refreshedAt);

        // The back end logs out; jAccount has no revocation, so nothing goes upstream.
        var before = fake.Upstream.Requests.Count;
        await broker.LogOutAsync(session);
        Assert.Equal(before, fake.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Browser_logout_ends_the_session_and_goes_to_jaccount_logout_with_the_return_url()
    {
        await using var fake = await FakeJAccount.StartAsync(TimeProvider.System);
        await using var broker = await ProviderBroker.StartAsync("sjtu", Connection(fake));
        var session = await broker.LogInAsync();

        var logout = await broker.BrowserLogOutAsync(session);

        Assert.Equal($"{fake.Upstream.BaseUrl}/oauth2/logout", logout.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(logout.Query);
        Assert.Equal(ProviderBroker.SignedOutUrl, query["post_logout_redirect_uri"]);
        Assert.Equal(fake.ClientId, query["client_id"]);
        Assert.False(query.ContainsKey("id_token_hint"));
        var signedOut = await ProviderBroker.DirectAsync(new HttpRequestMessage(HttpMethod.Get, logout));
        Assert.Equal(System.Net.HttpStatusCode.OK, signedOut.Status);
        Assert.Single(fake.Upstream.RequestsTo("/oauth2/logout"));
    }

    /// <summary>
    /// docs/design.md §3: <c>GET /t/{tenant}/logout?connection={c}&amp;return_to={url}</c> -> 302 to the
    /// provider's logout URL where it has one (jAccount, Authing, OIDC end_session), else to return_to.
    /// The app whose broker session already ended (expired, DELETEd by its back end) still needs to end
    /// the user's jAccount sign-in. The silo ignores <c>connection</c> when no session is named and
    /// sends the browser straight to return_to (LoginEndpoints.LogoutAsync; docs/api.md documents that
    /// divergence). Fails until the route builds the named connection's logout URL.
    /// </summary>
    [Fact]
    public async Task Browser_logout_naming_the_connection_without_a_session_goes_to_jaccount_logout()
    {
        await using var fake = await FakeJAccount.StartAsync(TimeProvider.System);
        await using var broker = await ProviderBroker.StartAsync("sjtu", Connection(fake));
        using var browser = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = broker.Broker.Silo.BaseAddress };

        using var response = await browser.GetAsync($"/t/sjtu/logout?connection={ProviderBroker.Connection}&return_to={Uri.EscapeDataString(ProviderBroker.SignedOutUrl)}");

        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        var logout = response.Headers.Location!;
        Assert.Equal($"{fake.Upstream.BaseUrl}/oauth2/logout", logout.GetLeftPart(UriPartial.Path));
        Assert.Equal(ProviderBroker.SignedOutUrl, QueryHelpers.ParseQuery(logout.Query)["post_logout_redirect_uri"]);
    }
}

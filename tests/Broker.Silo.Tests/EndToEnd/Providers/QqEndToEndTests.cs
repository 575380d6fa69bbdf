using System.Net;
using System.Text.Json.Nodes;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Silo.Tests.EndToEnd.Providers;

/// <summary>
/// QQ Connect through a silo process and <see cref="FakeQq"/>: the GET token request with the secret
/// in the query, <c>/oauth2.0/me</c> (with unionid), <c>get_user_info</c>; the session's own refreshes
/// with single-use refresh tokens, each used once and never again; <c>get_user_info</c> through the
/// upstream proxy with the token, app id and openid in the query; logout (QQ has no revocation).
/// </summary>
public sealed class QqEndToEndTests
{
    [Fact]
    public async Task Login_refreshes_with_single_use_tokens_profile_api_and_logout()
    {
        await using var fake = await FakeQq.StartAsync();
        fake.AccessTokenLifetime = TimeSpan.FromSeconds(4);
        await using var broker = await ProviderBroker.StartAsync("qzone", new JsonObject
        {
            ["type"] = "qq",
            ["clientId"] = fake.ClientId,
            ["clientSecret"] = fake.ClientSecret,
            ["scopes"] = new JsonArray("get_user_info"),
            ["baseUrl"] = fake.Upstream.BaseUrl,
            ["options"] = new JsonObject { ["unionId"] = true },
        });

        var session = await broker.LogInAsync();

        var code = Assert.Single(ProviderBroker.Grants(fake.Upstream, "/oauth2.0/token", "authorization_code", inQuery: true)).Request;
        Assert.Equal(("GET", fake.ClientSecret, "json"), (code.Method, code.Query["client_secret"], code.Query["fmt"]));
        Assert.Equal(broker.Broker.CallbackUrl, code.Query["redirect_uri"]);
        Assert.Equal("1", Assert.Single(fake.Upstream.RequestsTo("/oauth2.0/me")).Request.Query["unionid"]);

        var view = await broker.ViewAsync(session);
        var raw = ProviderBroker.AssertUser(view, fake.OpenId, "Peter", email: null, avatarUrl: "http://thirdqq.qlogo.cn/g?s=100");
        Assert.Equal(fake.OpenId, raw["openid"]!.GetValue<string>());
        Assert.Equal("UID_" + fake.OpenId, raw["unionid"]!.GetValue<string>());
        Assert.Equal("男", raw["gender"]!.GetValue<string>());
        Assert.Equal("http://thirdqq.qlogo.cn/g?s=40", raw["figureurl_qq_1"]!.GetValue<string>());
        Assert.Null(view["refreshedAt"]);

        // Two refreshes by the session itself, each with the refresh token the previous answer gave.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (ProviderBroker.Grants(fake.Upstream, "/oauth2.0/token", "refresh_token", inQuery: true).Count < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        fake.AccessTokenLifetime = TimeSpan.FromHours(1);
        await broker.WaitForRefreshAsync(session, ProviderBroker.LongLived);

        var presented = ProviderBroker.Grants(fake.Upstream, "/oauth2.0/token", "refresh_token", inQuery: true).Select(r => r.Request.Query["refresh_token"]).ToArray();
        Assert.True(presented.Length >= 2, $"{presented.Length} refreshes");
        Assert.Equal(fake.IssuedRefreshTokens.Take(presented.Length), presented);
        Assert.Empty(fake.ReusedRefreshTokens);
        Assert.All(ProviderBroker.Grants(fake.Upstream, "/oauth2.0/token", "refresh_token", inQuery: true),
            r => Assert.Equal((fake.ClientId, fake.ClientSecret), (r.Request.Query["client_id"], r.Request.Query["client_secret"])));

        // get_user_info through the proxy: the app's own query kept, QQ's three parameters added.
        var token = await broker.AccessTokenAsync(session);
        var answer = await broker.CallUpstreamAsync(session, new JsonObject
        {
            ["method"] = "GET",
            ["path"] = "user/get_user_info",
            ["query"] = new JsonObject { ["format"] = "json" },
        });
        var sent = fake.Upstream.RequestsTo("/user/get_user_info")[^1];
        Assert.Equal((token, fake.ClientId, fake.OpenId, "json"),
            (sent.Request.Query["access_token"], sent.Request.Query["oauth_consumer_key"], sent.Request.Query["openid"], sent.Request.Query["format"]));
        Assert.Null(sent.Request.Authorization);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(0, answer.Json["ret"]!.GetValue<int>());
        Assert.Equal("Peter", answer.Json["nickname"]!.GetValue<string>());
        ProviderBroker.AssertRelayed(await ProviderBroker.DirectAsync(new HttpRequestMessage(HttpMethod.Get, fake.Upstream.BaseUrl + sent.Path + sent.RawQuery)), answer);
        Assert.StartsWith("text/html", answer.ContentType); // QQ's content type, relayed as it came

        // ret 100014 (expired) with HTTP 200: one refresh, with the latest single-use refresh token, and one retry.
        fake.ExpireAccessTokens();
        var calls = fake.Upstream.RequestsTo("/user/get_user_info").Count;
        var retried = await broker.CallUpstreamAsync(session, new JsonObject { ["method"] = "GET", ["path"] = "user/get_user_info" });
        var fresh = await broker.AccessTokenAsync(session);
        Assert.Equal(0, retried.Json["ret"]!.GetValue<int>());
        Assert.Equal([token, fresh], fake.Upstream.RequestsTo("/user/get_user_info").Skip(calls).Select(r => r.Request.Query["access_token"]));
        var last = ProviderBroker.Grants(fake.Upstream, "/oauth2.0/token", "refresh_token", inQuery: true)[^1].Request.Query["refresh_token"];
        Assert.Equal(fake.IssuedRefreshTokens[^2], last);
        Assert.Empty(fake.ReusedRefreshTokens);

        // QQ has no revocation: logout ends the session without a call upstream.
        var before = fake.Upstream.Requests.Count;
        await broker.LogOutAsync(session);
        Assert.Equal(before, fake.Upstream.Requests.Count);
        Assert.Empty(fake.ReusedRefreshTokens);
    }
}

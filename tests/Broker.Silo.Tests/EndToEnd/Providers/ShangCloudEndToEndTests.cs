using System.Text;
using System.Text.Json.Nodes;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Silo.Tests.EndToEnd.Providers;

/// <summary>
/// ShangCloud through a silo process and <see cref="FakeShangCloud"/>: the code exchange with the raw
/// Basic header, <c>POST /api/user/info</c>, the session's own refresh (the SDK form with
/// <c>client_id</c>, plus Basic; single-use refresh tokens), the variables API through the upstream
/// proxy (<c>POST /api/varibles</c> with a JSON body), and logout (no revocation exists).
/// </summary>
public sealed class ShangCloudEndToEndTests
{
    [Fact]
    public async Task Login_refresh_profile_variables_api_and_logout()
    {
        await using var fake = await FakeShangCloud.StartAsync();
        fake.AccessTokenLifetime = TimeSpan.FromSeconds(4);
        await using var broker = await ProviderBroker.StartAsync("yearn", new JsonObject
        {
            ["type"] = "shangcloud",
            ["clientId"] = fake.ClientId,
            ["clientSecret"] = fake.ClientSecret,
            ["scopes"] = new JsonArray("user:basic", "var:io"),
            ["baseUrl"] = fake.Upstream.BaseUrl,
        });
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{fake.ClientId}:{fake.ClientSecret}"));

        var session = await broker.LogInAsync();
        fake.AccessTokenLifetime = TimeSpan.FromHours(1);

        Assert.Equal("user:basic var:io", Assert.Single(fake.Upstream.RequestsTo("/oauth/authorize")).Request.Query["scope"]);
        var code = Assert.Single(ProviderBroker.Grants(fake.Upstream, "/oauth/token", "authorization_code")).Request;
        Assert.Equal(basic, code.Authorization); // base64(id:secret), not form-encoded first
        Assert.False(code.Form.ContainsKey("client_secret"));
        var info = Assert.Single(fake.Upstream.RequestsTo("/api/user/info"));
        Assert.Equal(("POST", "{}"), (info.Request.Method, info.Body));

        var view = await broker.ViewAsync(session);
        var raw = ProviderBroker.AssertUser(view, "10086", "小尚", "xs@example.com", "https://cdn.example/a.png");
        Assert.Equal(10086, raw["uid"]!.GetValue<int>());
        Assert.Equal("xs@example.com", raw["mail"]!.GetValue<string>());
        Assert.Null(view["refreshedAt"]);

        await broker.WaitForRefreshAsync(session, ProviderBroker.LongLived);
        var refreshes = ProviderBroker.Grants(fake.Upstream, "/oauth/token", "refresh_token");
        Assert.All(refreshes, r => Assert.Equal((fake.ClientId, basic), (r.Request.Form["client_id"], r.Request.Authorization)));
        // Refresh tokens are single use at the fake: a reused one would have ended the session (refresh_failed).
        Assert.Equal(refreshes.Count, refreshes.Select(r => r.Request.Form["refresh_token"]).Distinct().Count());

        // The variables API through the proxy: the JSON body as sent, "{token_type} {token}".
        var token = await broker.AccessTokenAsync(session);
        var write = await broker.CallUpstreamAsync(session, new JsonObject
        {
            ["method"] = "POST",
            ["path"] = "varibles",
            ["body"] = new JsonObject { ["key"] = "score", ["action"] = "write", ["value"] = "42" },
        });
        Assert.Equal(("true", System.Net.HttpStatusCode.OK), (write.Marker, write.Status));
        Assert.Equal("42", write.Json["value"]!.GetValue<string>());
        var sent = Assert.Single(fake.Upstream.RequestsTo("/api/varibles"));
        Assert.Equal($"Bearer {token}", sent.Request.Authorization);
        Assert.StartsWith("application/json", sent.Request.Headers["Content-Type"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"key":"score","action":"write","value":"42"}"""), JsonNode.Parse(sent.Body)), sent.Body);

        var read = await broker.CallUpstreamAsync(session, Variable("score"));
        ProviderBroker.AssertRelayed(await Direct(fake, token, "score"), read);
        Assert.Equal("42", read.Json["value"]!.GetValue<string>());

        // An error in a 200 (the variables API's way) is relayed as it came, not retried.
        var calls = fake.Upstream.RequestsTo("/api/varibles").Count;
        var missing = await broker.CallUpstreamAsync(session, Variable("nope"));
        ProviderBroker.AssertRelayed(await Direct(fake, token, "nope"), missing);
        Assert.Equal("no such variable", missing.Json["error"]!.GetValue<string>());
        Assert.Equal(calls + 2, fake.Upstream.RequestsTo("/api/varibles").Count); // one through the proxy, one direct

        // ShangCloud has no revocation: logout ends the session without a call upstream.
        var before = fake.Upstream.Requests.Count;
        await broker.LogOutAsync(session);
        Assert.Equal(before, fake.Upstream.Requests.Count);
    }

    private static JsonObject Variable(string key) => new()
    {
        ["method"] = "POST",
        ["path"] = "varibles",
        ["body"] = new JsonObject { ["key"] = key, ["action"] = "read" },
    };

    private static Task<Answer> Direct(FakeShangCloud fake, string token, string key) =>
        ProviderBroker.DirectAsync(ProviderBroker.Bearer(HttpMethod.Post, $"{fake.Upstream.BaseUrl}/api/varibles", token,
            new StringContent($$"""{"key":"{{key}}","action":"read"}""", Encoding.UTF8, "application/json")));
}

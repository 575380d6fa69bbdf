using System.Net;
using System.Text.Json.Nodes;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Silo.Tests.EndToEnd.Providers;

/// <summary>
/// GitHub (laid out as GitHub Enterprise Server: <c>/login/oauth/*</c>, the API at <c>/api/v3/</c>)
/// through a silo process and <see cref="FakeGitHub"/>, in both token modes: classic tokens (no
/// expiry, no refresh token: the session arms no refresh) and expiring ones whose refresh rotates
/// both tokens. <c>/user</c> through the upstream proxy with Bearer and a User-Agent; logout deletes
/// the token through <c>DELETE /applications/{client_id}/token</c>.
/// </summary>
public sealed class GitHubEndToEndTests
{
    private static JsonObject Connection(FakeGitHub fake) => new()
    {
        ["type"] = "github",
        ["clientId"] = fake.ClientId,
        ["clientSecret"] = fake.ClientSecret,
        ["scopes"] = new JsonArray("read:user", "user:email"),
        ["baseUrl"] = fake.Upstream.BaseUrl,
    };

    [Fact]
    public async Task A_classic_token_never_refreshes_and_is_revoked_at_logout()
    {
        await using var fake = await FakeGitHub.StartAsync();
        await using var broker = await ProviderBroker.StartAsync("octo", Connection(fake));

        var session = await broker.LogInAsync();

        var code = Assert.Single(ProviderBroker.Grants(fake.Upstream, "/login/oauth/access_token", "authorization_code")).Request;
        Assert.Contains("application/json", code.Headers["Accept"]);
        Assert.Equal(fake.ClientSecret, code.Form["client_secret"]);
        var view = await broker.ViewAsync(session);
        AssertOctocat(view);
        Assert.Null(view["accessTokenExpiresAt"]);

        // No expiry and no refresh token: nothing is armed, nothing refreshes, the token stays.
        var token = await broker.AccessTokenAsync(session);
        await Task.Delay(TimeSpan.FromSeconds(3));
        view = await broker.ViewAsync(session);
        Assert.Equal("active", view["status"]!.GetValue<string>());
        Assert.Null(view["refreshedAt"]);
        Assert.Null(view["accessTokenExpiresAt"]);
        Assert.Single(fake.Upstream.RequestsTo("/login/oauth/access_token"));
        var current = await broker.Broker.JsonAsync(HttpMethod.Get, $"{broker.SessionPath(session)}/token");
        Assert.Equal(token, current["accessToken"]!.GetValue<string>());
        Assert.Null(current["expiresAt"]);

        await CallUserAndLogOutAsync(fake, broker, session, token);
    }

    [Fact]
    public async Task An_expiring_token_refreshes_with_rotation_and_is_revoked_at_logout()
    {
        await using var fake = await FakeGitHub.StartAsync();
        fake.ExpiringTokens = true;
        fake.ExpiringAccessTokenLifetime = TimeSpan.FromSeconds(4);
        await using var broker = await ProviderBroker.StartAsync("octo", Connection(fake));

        var session = await broker.LogInAsync();
        fake.ExpiringAccessTokenLifetime = TimeSpan.FromHours(1);

        var view = await broker.ViewAsync(session);
        AssertOctocat(view);
        Assert.InRange(view["accessTokenExpiresAt"]!.GetValue<DateTimeOffset>(), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(5));
        Assert.Null(view["refreshedAt"]);
        var first = fake.Upstream.RequestsTo("/api/v3/user")[0].Request.Authorization!["Bearer ".Length..]; // the login's token

        await broker.WaitForRefreshAsync(session, ProviderBroker.LongLived);
        var refreshes = ProviderBroker.Grants(fake.Upstream, "/login/oauth/access_token", "refresh_token");
        Assert.All(refreshes, r =>
        {
            Assert.Equal((fake.ClientId, fake.ClientSecret), (r.Request.Form["client_id"], r.Request.Form["client_secret"]));
            Assert.StartsWith("ghr_", r.Request.Form["refresh_token"]);
            Assert.Contains("application/json", r.Request.Headers["Accept"]);
        });
        Assert.Equal(refreshes.Count, refreshes.Select(r => r.Request.Form["refresh_token"]).Distinct().Count()); // rotated, each used once
        var token = await broker.AccessTokenAsync(session);
        Assert.StartsWith("ghu_", token);
        Assert.NotEqual(first, token);

        await CallUserAndLogOutAsync(fake, broker, session, token);
    }

    private static void AssertOctocat(JsonObject view)
    {
        // The e-mail is private on /user: the primary verified one from /user/emails.
        var raw = ProviderBroker.AssertUser(view, "583231", "The Octocat", "octocat@example.com", "https://avatars.githubusercontent.com/u/583231");
        Assert.Equal("octocat", raw["login"]!.GetValue<string>());
        Assert.Equal(583231, raw["id"]!.GetValue<int>());
    }

    /// <summary>GitHub's pagination through the proxy: the app reads Link for the next page and passes its
    /// page on; the caching and rate-limit headers come along; the allowed request headers reach GitHub.</summary>
    private static async Task PageThroughReposAsync(FakeGitHub fake, ProviderBroker broker, string session)
    {
        var names = new List<string>();
        string? etag = null;
        var page = "1";
        while (page is not null)
        {
            var answer = await broker.CallUpstreamAsync(session, new JsonObject
            {
                ["method"] = "GET", ["path"] = "user/repos",
                ["query"] = new JsonObject { ["per_page"] = "2", ["page"] = page },
                ["headers"] = new JsonObject { ["accept"] = "application/vnd.github+json", ["x-github-api-version"] = "2022-11-28" },
            });
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            names.AddRange(answer.Json.AsArray().Select(r => r!["name"]!.GetValue<string>()));
            Assert.Equal(("5000", "4999"), (answer.Header("x-ratelimit-limit"), answer.Header("x-ratelimit-remaining")));
            etag ??= answer.Header("etag");
            var next = System.Text.RegularExpressions.Regex.Match(answer.Header("link") ?? "", "<[^>]*[?&]page=(\\d+)>; rel=\"next\"");
            page = next.Success ? next.Groups[1].Value : null;
        }
        Assert.Equal(["repo-1", "repo-2", "repo-3", "repo-4", "repo-5"], names);
        var sent = fake.Upstream.RequestsTo("/api/v3/user/repos")[^1].Request;
        Assert.Equal(("application/vnd.github+json", "2022-11-28"), (sent.Headers["Accept"].ToString(), sent.Headers["X-GitHub-Api-Version"].ToString()));

        // A conditional request: GitHub's 304 (which costs no rate limit) comes back as it is.
        var unchanged = await broker.CallUpstreamAsync(session, new JsonObject
        {
            ["method"] = "GET", ["path"] = "user/repos", ["query"] = new JsonObject { ["per_page"] = "2", ["page"] = "1" },
            ["headers"] = new JsonObject { ["if-none-match"] = etag },
        });
        Assert.Equal(HttpStatusCode.NotModified, unchanged.Status);
        Assert.Equal(etag, unchanged.Header("etag"));
    }

    private static async Task CallUserAndLogOutAsync(FakeGitHub fake, ProviderBroker broker, string session, string token)
    {
        await PageThroughReposAsync(fake, broker, session);

        var answer = await broker.CallUpstreamAsync(session, new JsonObject { ["method"] = "GET", ["path"] = "user" });
        var sent = fake.Upstream.RequestsTo("/api/v3/user")[^1].Request;
        Assert.Equal(($"Bearer {token}", "Broker"), (sent.Authorization, sent.Headers["User-Agent"]));
        Assert.Equal("octocat", answer.Json["login"]!.GetValue<string>());
        using var direct = ProviderBroker.Bearer(HttpMethod.Get, $"{fake.Upstream.BaseUrl}/api/v3/user", token);
        direct.Headers.UserAgent.ParseAdd("e2e-test");
        ProviderBroker.AssertRelayed(await ProviderBroker.DirectAsync(direct), answer);

        Assert.True(fake.IsActive(token));
        await broker.LogOutAsync(session);
        Assert.False(fake.IsActive(token));
        var delete = Assert.Single(fake.Upstream.RequestsTo($"/api/v3/applications/{fake.ClientId}/token"));
        Assert.Equal("DELETE", delete.Request.Method);
        Assert.StartsWith("Basic ", delete.Request.Authorization);
        Assert.Equal(token, JsonNode.Parse(delete.Body)!["access_token"]!.GetValue<string>());
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Broker.Testing.Upstreams.Providers;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Silo.Tests.EndToEnd.Providers;

/// <summary>What came back from a call: status, content type, body, and the proxy's marker header.</summary>
internal sealed record Answer(HttpStatusCode Status, string? ContentType, string Body, string? Marker, IReadOnlyDictionary<string, string>? Headers = null)
{
    public string? Header(string name) => Headers?.GetValueOrDefault(name);

    public JsonNode Json => JsonNode.Parse(Body)!;
}

/// <summary>
/// A <see cref="BrokerUnderTest"/> (a real silo process) with one connection, <c>main</c>, of a
/// provider type pointed at that provider's fake, and the moves every provider test makes through
/// HTTP: log in through the fake's authorize endpoint, read the session, wait for the session's own
/// refresh, call the provider's API through the upstream proxy, log out.
/// </summary>
internal sealed class ProviderBroker : IAsyncDisposable
{
    public const string Connection = "main";

    /// <summary>A return URL that matches the tenant's registered one; the query is the app's own.</summary>
    public const string SignedOutUrl = BrokerUnderTest.ReturnUrl + "?signed-out=1";

    // Plays the browser and the app's direct calls to the provider: never follows redirects.
    private static readonly HttpClient Browser = new(new SocketsHttpHandler { AllowAutoRedirect = false });

    private ProviderBroker(BrokerUnderTest broker) => Broker = broker;

    public BrokerUnderTest Broker { get; }

    public string Tenant => Broker.Tenant;

    public string SessionPath(string session) => $"/api/tenants/{Tenant}/sessions/{session}";

    /// <summary>
    /// Starts a silo, sets the tenant's refresh lead to its minimum (5 s, so tokens of a few seconds
    /// are refreshed at half their life, docs/design.md §6) before any session takes it, and registers
    /// <paramref name="connection"/> as the tenant's only connection.
    /// </summary>
    public static async Task<ProviderBroker> StartAsync(string tenant, JsonObject connection)
    {
        var broker = await BrokerUnderTest.StartAsync(BrokerUnderTest.ReservePort(), tenant);
        try
        {
            using var patch = await broker.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant}", new { sessionPolicy = new { refreshLeadSeconds = 5 } });
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            using var put = await broker.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant}/connections/{Connection}", connection);
            Assert.True(put.StatusCode == HttpStatusCode.Created, $"PUT connection: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
            var view = JsonNode.Parse(await put.Content.ReadAsStringAsync())!;
            Assert.True(view["hasClientSecret"]!.GetValue<bool>());
            Assert.Null(view["clientSecret"]);
            return new ProviderBroker(broker);
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }
    }

    /// <summary>/login → the fake's authorize endpoint (which approves at once) → the broker's callback → the app → exchange.</summary>
    public Task<string> LogInAsync() => Broker.LogInAsync(async authorize =>
    {
        var query = await FakeUpstream.FollowAuthorizeAsync(authorize);
        Assert.True(query.ContainsKey("code"), $"the fake's authorize endpoint answered {string.Join('&', query.Select(p => $"{p.Key}={p.Value}"))}");
        return new Uri(QueryHelpers.AddQueryString(Broker.CallbackUrl, query.ToDictionary(p => p.Key, p => (string?)p.Value)));
    });

    public Task<JsonObject> ViewAsync(string session) => Broker.JsonAsync(HttpMethod.Get, SessionPath(session));

    /// <summary>The session's current upstream access token (<c>GET .../token</c>, the one route that hands it out).</summary>
    public async Task<string> AccessTokenAsync(string session) =>
        (await Broker.JsonAsync(HttpMethod.Get, $"{SessionPath(session)}/token"))["accessToken"]!.GetValue<string>();

    /// <summary>
    /// Polls the session view, without asking for anything that could refresh, until the session's own
    /// reminder has refreshed it (<c>refreshedAt</c> set) and <paramref name="until"/> holds.
    /// </summary>
    public async Task<JsonObject> WaitForRefreshAsync(string session, Func<JsonObject, bool>? until = null, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonObject view;
        while (true)
        {
            view = await ViewAsync(session);
            if ((view["refreshedAt"] is not null && (until?.Invoke(view) ?? true)) || DateTime.UtcNow > deadline)
                break;
            await Task.Delay(200);
        }
        Assert.True(view["refreshedAt"] is not null && (until?.Invoke(view) ?? true), $"no refresh within {seconds} s: {view.ToJsonString()}");
        Assert.Equal("active", view["status"]!.GetValue<string>());
        return view;
    }

    /// <summary>True when the view's access token lives at least another half hour: the long-lived one is in place.</summary>
    public static bool LongLived(JsonObject view) =>
        view["accessTokenExpiresAt"] is { } expires && expires.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddMinutes(30);

    /// <summary><c>POST .../upstream</c> with <paramref name="call"/> (<c>{method, path, query?, body?}</c>).</summary>
    public async Task<Answer> CallUpstreamAsync(string session, JsonObject call)
    {
        using var response = await Broker.SendAsync(HttpMethod.Post, $"{SessionPath(session)}/upstream", call);
        return await ReadAsync(response);
    }

    /// <summary>Calls the provider directly (what the answer through the proxy must equal).</summary>
    public static async Task<Answer> DirectAsync(HttpRequestMessage request)
    {
        using (request)
        using (var response = await Browser.SendAsync(request))
            return await ReadAsync(response);
    }

    /// <summary>Asserts the proxied answer is the provider's own, unchanged, and marked as such.</summary>
    public static void AssertRelayed(Answer direct, Answer proxied)
    {
        Assert.Equal("true", proxied.Marker);
        Assert.Equal(direct.Status, proxied.Status);
        Assert.Equal(direct.ContentType, proxied.ContentType);
        Assert.Equal(direct.Body, proxied.Body);
    }

    /// <summary>The app's back end logs out: DELETE the session, which then reads as ended by logout.</summary>
    public async Task LogOutAsync(string session)
    {
        using var deleted = await Broker.SendAsync(HttpMethod.Delete, SessionPath(session));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertEndedByLogoutAsync(session);
    }

    /// <summary>The browser logs out through <c>/t/{tenant}/logout</c>; returns where the broker sends it.</summary>
    public async Task<Uri> BrowserLogOutAsync(string session, string returnTo = SignedOutUrl)
    {
        using var response = await Browser.GetAsync(new Uri(Broker.Silo.BaseAddress,
            $"/t/{Tenant}/logout?return_to={Uri.EscapeDataString(returnTo)}&session={session}"));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        await AssertEndedByLogoutAsync(session);
        return response.Headers.Location!;
    }

    /// <summary>The user as the session view shows it: the normalised members, with <c>raw</c> left to the caller.</summary>
    public static JsonObject AssertUser(JsonObject view, string subject, string? name, string? email, string? avatarUrl)
    {
        var user = view["user"]!.AsObject();
        Assert.StartsWith("usr_", user["id"]!.GetValue<string>());
        Assert.Equal(Connection, user["connection"]!.GetValue<string>());
        Assert.Equal(subject, user["subject"]!.GetValue<string>());
        Assert.Equal(name, user["name"]?.GetValue<string>());
        Assert.Equal(email, user["email"]?.GetValue<string>());
        Assert.Equal(avatarUrl, user["avatarUrl"]?.GetValue<string>());
        return user["raw"]!.AsObject();
    }

    /// <summary>The token-endpoint requests that used the given grant.</summary>
    public static IReadOnlyList<ProviderRequest> Grants(FakeUpstream upstream, string tokenPath, string grantType, bool inQuery = false) =>
        upstream.RequestsTo(tokenPath)
            .Where(r => (inQuery ? r.Request.Query : r.Request.Form).GetValueOrDefault("grant_type") == grantType)
            .ToArray();

    public async ValueTask DisposeAsync() => await Broker.DisposeAsync();

    private async Task AssertEndedByLogoutAsync(string session)
    {
        var view = await ViewAsync(session);
        Assert.Equal(("ended", "logout"), (view["status"]!.GetValue<string>(), view["endReason"]!.GetValue<string>()));
        using var token = await Broker.SendAsync(HttpMethod.Get, $"{SessionPath(session)}/token");
        Assert.Equal(HttpStatusCode.Conflict, token.StatusCode); // session_ended: no token after logout
    }

    private static async Task<Answer> ReadAsync(HttpResponseMessage response) => new(
        response.StatusCode,
        response.Content.Headers.ContentType?.ToString(),
        await response.Content.ReadAsStringAsync(),
        response.Headers.TryGetValues("Broker-Upstream", out var marker) ? string.Join(",", marker) : null,
        response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(", ", h.Value)));

    /// <summary>A request to the provider with a Bearer token.</summary>
    public static HttpRequestMessage Bearer(HttpMethod method, string url, string token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }
}

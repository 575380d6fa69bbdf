using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Api.Tests;

/// <summary>The user directory, one user, blocking, deletion, linking and unlinking through the real pipeline
/// (docs/design.md §6 "Users and identities"), with two connections to the dev IdP as two providers.</summary>
public sealed class UserEndpointsTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task The_directory_lists_users_in_creation_order_a_page_at_a_time_and_filters_by_connection_name_email_or_subject()
    {
        var tenant = await TenantWithTwoConnectionsAsync();
        var alice = await SignInAndExchangeAsync(tenant, "dev", "alice");
        var bob = await SignInAndExchangeAsync(tenant, "dev", "bob");
        var carol = await SignInAndExchangeAsync(tenant, "dev", "carol");
        var dave = await SignInAndExchangeAsync(tenant, "dev2", "dave");
        await SignInAndExchangeAsync(tenant, "dev", "alice"); // the same user again

        var all = await ListAsync(tenant, "");
        Assert.Equal([alice.UserId, bob.UserId, carol.UserId, dave.UserId], Ids(all));
        var first = all["items"]![0]!;
        Assert.Equal(("alice", "alice@example.com", false), (first["name"]!.GetValue<string>(), first["email"]!.GetValue<string>(), first["blocked"]!.GetValue<bool>()));
        Assert.Equal("""[{"connection":"dev","subject":"alice"}]""", first["identities"]!.ToJsonString());
        Assert.NotNull(first["createdAt"]);
        Assert.NotNull(first["lastLoginAt"]);
        Assert.Null(all["nextCursor"]);

        var page1 = await ListAsync(tenant, "?limit=3");
        var page2 = await ListAsync(tenant, "?limit=3&cursor=" + page1["nextCursor"]!.GetValue<string>());
        Assert.Equal([alice.UserId, bob.UserId, carol.UserId], Ids(page1));
        Assert.Equal([dave.UserId], Ids(page2));
        Assert.Null(page2["nextCursor"]);

        Assert.Equal([dave.UserId], Ids(await ListAsync(tenant, "?connection=dev2")));
        Assert.Equal([bob.UserId], Ids(await ListAsync(tenant, "?q=BO")));
        Assert.Equal([carol.UserId], Ids(await ListAsync(tenant, "?q=carol%40EXAMPLE")));
        Assert.Equal([dave.UserId], Ids(await ListAsync(tenant, "?q=dave&connection=dev2")));
        Assert.Empty(Ids(await ListAsync(tenant, "?q=dave&connection=dev")));
        Assert.Empty(Ids(await ListAsync(tenant, "?q=%25"))); // a wildcard is taken literally

        // The same e-mail at another provider is another person until they link: never matched by e-mail or name.
        var aliceElsewhere = await SignInAndExchangeAsync(tenant, "dev2", "alice");
        Assert.NotEqual(alice.UserId, aliceElsewhere.UserId);
        Assert.Equal([alice.UserId, aliceElsewhere.UserId], Ids(await ListAsync(tenant, "?q=alice%40example.com")));

        // Another tenant sees none of them.
        var other = await api.CreateTenantAsync();
        Assert.Empty(Ids(await ListAsync(other, "")));
    }

    [Fact]
    public async Task A_user_shows_each_identity_with_its_last_profile_and_the_count_of_active_sessions()
    {
        var tenant = await TenantWithTwoConnectionsAsync();
        var first = await SignInAndExchangeAsync(tenant, "dev", "erin");
        await SignInAndExchangeAsync(tenant, "dev", "erin");
        using (await api.SendAsync(HttpMethod.Delete, $"/api/tenants/{tenant.Id}/sessions/{first.SessionId}", tenant.ApiKey)) { }

        using var response = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users/{first.UserId}", tenant.ApiKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var user = await TestApi.ReadJsonAsync(response);
        Assert.Equal((first.UserId, "erin", 1), (user["id"]!.GetValue<string>(), user["name"]!.GetValue<string>(), user["activeSessions"]!.GetValue<int>()));
        var identity = Assert.Single(user["identities"]!.AsArray())!;
        Assert.Equal(("dev", "erin"), (identity["connection"]!.GetValue<string>(), identity["subject"]!.GetValue<string>()));
        Assert.NotNull(identity["linkedAt"]);
        Assert.NotNull(identity["lastLoginAt"]);
        Assert.Equal((first.UserId, "erin", "dev"), (identity["profile"]!["id"]!.GetValue<string>(), identity["profile"]!["subject"]!.GetValue<string>(), identity["profile"]!["connection"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Blocking_ends_the_sessions_and_sends_the_users_logins_back_as_access_denied_until_unblocked()
    {
        var tenant = await TenantWithTwoConnectionsAsync();
        var frank = await SignInAndExchangeAsync(tenant, "dev", "frank");
        var path = $"/api/tenants/{tenant.Id}/users/{frank.UserId}";
        // A second identity: blocking refuses the logins through every identity.
        using (var linked = await api.GetAsync((await api.ApproveAtDevIdpAsync(await CreateLinkAsync(tenant, frank.SessionId, "dev2"), "frank.two")).PathAndQuery))
            Assert.NotNull(TestApi.Param(linked.Headers.Location!, "code"));

        using (var blocked = await api.SendAsync(HttpMethod.Patch, path, tenant.ApiKey, new { blocked = true }))
        {
            Assert.Equal(HttpStatusCode.OK, blocked.StatusCode);
            var body = await TestApi.ReadJsonAsync(blocked);
            Assert.Equal((true, 0), (body["blocked"]!.GetValue<bool>(), body["activeSessions"]!.GetValue<int>()));
        }
        var session = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{frank.SessionId}", tenant.ApiKey));
        Assert.Equal(("ended", "revoked"), (session["status"]!.GetValue<string>(), session["endReason"]!.GetValue<string>()));

        foreach (var (connection, username) in new[] { ("dev", "frank"), ("dev2", "frank.two") })
        {
            var refused = await SignInAtAsync(tenant, connection, username);
            Assert.Equal(("access_denied", "user blocked", "app-state"), (TestApi.Param(refused, "error"), TestApi.Param(refused, "error_description"), TestApi.Param(refused, "state")));
            Assert.Null(TestApi.Param(refused, "code"));
        }
        Assert.True((await ListAsync(tenant, "?q=frank"))["items"]![0]!["blocked"]!.GetValue<bool>());

        using (var unblocked = await api.SendAsync(HttpMethod.Patch, path, tenant.ApiKey, new { blocked = false }))
            Assert.False((await TestApi.ReadJsonAsync(unblocked))["blocked"]!.GetValue<bool>());
        Assert.Equal(frank.UserId, (await SignInAndExchangeAsync(tenant, "dev", "frank")).UserId);

        var events = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/events?user={frank.UserId}", tenant.ApiKey));
        var types = events["items"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()).ToList();
        Assert.Contains("user_blocked", types);
        Assert.Contains("user_unblocked", types);
    }

    [Fact]
    public async Task A_deleted_user_is_404_and_its_identity_signs_in_again_as_a_new_user()
    {
        var tenant = await TenantWithTwoConnectionsAsync();
        var gina = await SignInAndExchangeAsync(tenant, "dev", "gina");
        var path = $"/api/tenants/{tenant.Id}/users/{gina.UserId}";

        using (var deleted = await api.SendAsync(HttpMethod.Delete, path, tenant.ApiKey))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, path, tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, path + "/sessions", tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, path, tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
        var session = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{gina.SessionId}", tenant.ApiKey));
        Assert.Equal(("ended", "revoked"), (session["status"]!.GetValue<string>(), session["endReason"]!.GetValue<string>()));
        Assert.Empty(Ids(await ListAsync(tenant, "?q=gina")));

        var again = await SignInAndExchangeAsync(tenant, "dev", "gina");
        Assert.NotEqual(gina.UserId, again.UserId);
        var events = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/events?type=user_deleted", tenant.ApiKey));
        Assert.Equal(gina.UserId, Assert.Single(events["items"]!.AsArray())!["userId"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_link_url_signs_in_at_another_connection_once_and_the_exchange_gives_a_session_of_the_same_user()
    {
        var tenant = await TenantWithTwoConnectionsAsync();
        var hana = await SignInAndExchangeAsync(tenant, "dev", "hana");

        using var created = await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/{hana.SessionId}/links", tenant.ApiKey,
            new { connection = "dev2", returnTo = tenant.ReturnUrl, state = "linking" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var link = await TestApi.ReadJsonAsync(created);
        var loginUrl = new Uri(link["loginUrl"]!.GetValue<string>());
        var expiresAt = link["expiresAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10.5));

        var callback = await api.ApproveAtDevIdpAsync(loginUrl, "hana-at-two");
        using var toApp = await api.GetAsync(callback.PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, toApp.StatusCode);
        Assert.Equal("linking", TestApi.Param(toApp.Headers.Location!, "state"));
        var linked = await ExchangeAsync(tenant, TestApi.Param(toApp.Headers.Location!, "code")!);
        Assert.Equal(hana.UserId, linked.UserId);
        Assert.Equal(("hana-at-two", "dev2"), (linked.Exchange["user"]!["subject"]!.GetValue<string>(), linked.Exchange["user"]!["connection"]!.GetValue<string>()));

        // Used once: the same callback again is the error page, never a second session.
        await TestApi.AssertErrorPageAsync(await api.GetAsync(callback.PathAndQuery), HttpStatusCode.BadRequest);
        // Signing in with the linked identity alone is the same user.
        Assert.Equal(hana.UserId, (await SignInAndExchangeAsync(tenant, "dev2", "hana-at-two")).UserId);
        var user = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users/{hana.UserId}", tenant.ApiKey));
        Assert.Equal(["dev:hana", "dev2:hana-at-two"], user["identities"]!.AsArray().Select(i => $"{i!["connection"]}:{i["subject"]}"));
        Assert.Equal([hana.UserId], Ids(await ListAsync(tenant, "?connection=dev2")));
    }

    [Fact]
    public async Task An_identity_of_another_user_is_not_moved_by_a_link_and_the_app_is_told_why()
    {
        var tenant = await TenantWithTwoConnectionsAsync();
        var ivan = await SignInAndExchangeAsync(tenant, "dev", "ivan");
        var judy = await SignInAndExchangeAsync(tenant, "dev2", "judy");

        var loginUrl = await CreateLinkAsync(tenant, ivan.SessionId, "dev2");
        var callback = await api.ApproveAtDevIdpAsync(loginUrl, "judy");
        using var toApp = await api.GetAsync(callback.PathAndQuery);

        Assert.Equal(("access_denied", "identity already linked to another user"),
            (TestApi.Param(toApp.Headers.Location!, "error"), TestApi.Param(toApp.Headers.Location!, "error_description")));
        Assert.Equal(judy.UserId, (await SignInAndExchangeAsync(tenant, "dev2", "judy")).UserId);
        var ivanUser = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users/{ivan.UserId}", tenant.ApiKey));
        Assert.Single(ivanUser["identities"]!.AsArray());
    }

    [Fact]
    public async Task Unlinking_ends_the_identitys_sessions_and_the_only_identity_is_409_last_identity()
    {
        var tenant = await TenantWithTwoConnectionsAsync();
        var kai = await SignInAndExchangeAsync(tenant, "dev", "kai");
        var callback = await api.ApproveAtDevIdpAsync(await CreateLinkAsync(tenant, kai.SessionId, "dev2"), "kai.two");
        using var toApp = await api.GetAsync(callback.PathAndQuery);
        var linked = await ExchangeAsync(tenant, TestApi.Param(toApp.Headers.Location!, "code")!);
        var path = $"/api/tenants/{tenant.Id}/users/{kai.UserId}/identities";

        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"{path}/dev2/nobody", tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"{path}/dev2/kai%2Ftwo", tenant.ApiKey), HttpStatusCode.NotFound, "not_found");
        using (var unlinked = await api.SendAsync(HttpMethod.Delete, $"{path}/dev2/kai.two", tenant.ApiKey))
            Assert.Equal(HttpStatusCode.NoContent, unlinked.StatusCode);

        var session = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{linked.SessionId}", tenant.ApiKey));
        Assert.Equal(("ended", "revoked"), (session["status"]!.GetValue<string>(), session["endReason"]!.GetValue<string>()));
        var problem = await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Delete, $"{path}/dev/kai", tenant.ApiKey), HttpStatusCode.Conflict, "last_identity");
        Assert.NotNull(problem["detail"]);
        Assert.NotEqual(kai.UserId, (await SignInAndExchangeAsync(tenant, "dev2", "kai.two")).UserId);
        Assert.Equal(kai.UserId, (await SignInAndExchangeAsync(tenant, "dev", "kai")).UserId);
        var events = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/events?user={kai.UserId}", tenant.ApiKey));
        var changes = events["items"]!.AsArray().Where(e => e!["type"]!.GetValue<string>().StartsWith("identity_", StringComparison.Ordinal))
            .Select(e => $"{e!["type"]}:{e["connection"]}:{e["detail"]!["subject"]}").ToList();
        Assert.Equal(["identity_unlinked:dev2:kai.two", "identity_linked:dev2:kai.two"], changes); // newest first
    }

    [Fact]
    public async Task Bad_input_is_a_clear_error_in_the_contracts_order_and_changes_nothing()
    {
        var tenant = await TenantWithTwoConnectionsAsync();
        var other = await api.CreateTenantAsync();
        var lena = await SignInAndExchangeAsync(tenant, "dev", "lena");
        var ended = await SignInAndExchangeAsync(tenant, "dev", "lena");
        using (await api.SendAsync(HttpMethod.Delete, $"/api/tenants/{tenant.Id}/sessions/{ended.SessionId}", tenant.ApiKey)) { }
        var user = $"/api/tenants/{tenant.Id}/users/{lena.UserId}";
        var unknownUser = $"/api/tenants/{tenant.Id}/users/usr_{new string('0', 32)}";
        var links = $"/api/tenants/{tenant.Id}/sessions/{lena.SessionId}/links";
        var big = "{\"blocked\":true,\"x\":\"" + new string('a', 65 * 1024) + "\"}";

        async Task ExpectAsync(HttpMethod method, string path, string? key, object? body, HttpStatusCode status, string code) =>
            await TestApi.AssertProblemAsync(await api.SendAsync(method, path, key, body), status, code);

        await ExpectAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users/alice", tenant.ApiKey, null, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users?limit=0", tenant.ApiKey, null, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users?limit=201", tenant.ApiKey, null, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users?cursor=bogus", tenant.ApiKey, null, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users?connection=Bad_One", tenant.ApiKey, null, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users?q=a&q=b", tenant.ApiKey, null, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users?q=" + new string('a', 257), tenant.ApiKey, null, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Patch, user, tenant.ApiKey, new { }, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Patch, user, tenant.ApiKey, "{\"blocked\":\"yes\"}", HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Patch, user, tenant.ApiKey, "{\"blocked\":null}", HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Patch, user, tenant.ApiKey, "{\"blocked\":true,\"name\":\"x\"}", HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Delete, user + "/identities/Bad_Conn/lena", tenant.ApiKey, null, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Delete, user + "/identities/dev/a%0Ab", tenant.ApiKey, null, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Post, links, tenant.ApiKey, new { }, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Post, links, tenant.ApiKey, new { connection = "dev2", returnTo = "https://elsewhere.example/cb" }, HttpStatusCode.BadRequest, "invalid_request");
        await ExpectAsync(HttpMethod.Post, links, tenant.ApiKey, new { connection = "dev2", returnTo = "javascript:alert(1)" }, HttpStatusCode.BadRequest, "invalid_request");

        await ExpectAsync(HttpMethod.Get, unknownUser, tenant.ApiKey, null, HttpStatusCode.NotFound, "not_found");
        await ExpectAsync(HttpMethod.Patch, unknownUser, tenant.ApiKey, new { blocked = true }, HttpStatusCode.NotFound, "not_found");
        await ExpectAsync(HttpMethod.Delete, unknownUser, tenant.ApiKey, null, HttpStatusCode.NotFound, "not_found");
        await ExpectAsync(HttpMethod.Post, links, tenant.ApiKey, new { connection = "nowhere" }, HttpStatusCode.NotFound, "not_found");
        await ExpectAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/{ended.SessionId}/links", tenant.ApiKey, new { connection = "dev2" }, HttpStatusCode.Conflict, "session_ended");

        // A user of this tenant is not another tenant's, with either key.
        await ExpectAsync(HttpMethod.Get, $"/api/tenants/{other.Id}/users/{lena.UserId}", other.ApiKey, null, HttpStatusCode.NotFound, "not_found");
        await ExpectAsync(HttpMethod.Patch, user, other.ApiKey, new { blocked = true }, HttpStatusCode.NotFound, "not_found");
        await ExpectAsync(HttpMethod.Delete, user, null, null, HttpStatusCode.Unauthorized, "unauthorized");
        await ExpectAsync(HttpMethod.Patch, user, "wrong." + tenant.ApiKey, new { blocked = true }, HttpStatusCode.Unauthorized, "unauthorized");
        await ExpectAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users", other.ApiKey, null, HttpStatusCode.NotFound, "not_found");
        await ExpectAsync(HttpMethod.Post, links, other.ApiKey, new { connection = "dev2" }, HttpStatusCode.NotFound, "not_found");
        // Too large: 413 after authentication (401 before it).
        await ExpectAsync(HttpMethod.Patch, user, null, big, HttpStatusCode.Unauthorized, "unauthorized");
        await ExpectAsync(HttpMethod.Patch, user, tenant.ApiKey, big, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await ExpectAsync(HttpMethod.Post, links, tenant.ApiKey, big, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        // None of it changed the user: still there, unblocked, its session active.
        var after = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, user, tenant.ApiKey));
        Assert.Equal((false, 1), (after["blocked"]!.GetValue<bool>(), after["activeSessions"]!.GetValue<int>()));
    }

    private async Task<TestTenant> TenantWithTwoConnectionsAsync()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant, "dev");
        await api.PutDevConnectionAsync(tenant, "dev2");
        return tenant;
    }

    private async Task<Uri> SignInAtAsync(TestTenant tenant, string connection, string username)
    {
        var login = QueryHelpers.AddQueryString($"/t/{tenant.Id}/login", new Dictionary<string, string?> { ["connection"] = connection, ["state"] = "app-state" });
        using var toProvider = await api.GetAsync(login);
        Assert.Equal(HttpStatusCode.Redirect, toProvider.StatusCode);
        var callback = await api.ApproveAtDevIdpAsync(toProvider.Headers.Location!, username);
        using var toApp = await api.GetAsync(callback.PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, toApp.StatusCode);
        return toApp.Headers.Location!;
    }

    private async Task<(string SessionId, string UserId, JsonObject Exchange)> SignInAndExchangeAsync(TestTenant tenant, string connection, string username) =>
        await ExchangeAsync(tenant, TestApi.Param(await SignInAtAsync(tenant, connection, username), "code")!);

    private async Task<(string SessionId, string UserId, JsonObject Exchange)> ExchangeAsync(TestTenant tenant, string code)
    {
        using var exchanged = await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/exchange", tenant.ApiKey, new { code });
        Assert.Equal(HttpStatusCode.OK, exchanged.StatusCode);
        var body = await TestApi.ReadJsonAsync(exchanged);
        return (body["sessionId"]!.GetValue<string>(), body["user"]!["id"]!.GetValue<string>(), body);
    }

    private async Task<Uri> CreateLinkAsync(TestTenant tenant, string sessionId, string connection)
    {
        using var created = await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/{sessionId}/links", tenant.ApiKey, new { connection });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return new Uri((await TestApi.ReadJsonAsync(created))["loginUrl"]!.GetValue<string>());
    }

    private async Task<JsonObject> ListAsync(TestTenant tenant, string query)
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/users{query}", tenant.ApiKey);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await TestApi.ReadJsonAsync(response);
    }

    private static List<string> Ids(JsonObject page) => page["items"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).ToList();

    public void Dispose() => api.Dispose();
}

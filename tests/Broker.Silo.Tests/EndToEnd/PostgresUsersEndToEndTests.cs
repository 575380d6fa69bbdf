using System.Net;
using System.Text.Json.Nodes;
using Broker.Testing;
using Broker.Testing.Upstreams;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Silo.Tests.EndToEnd;

/// <summary>
/// Users and identities through a real silo process on PostgreSQL with two upstream providers (two fake
/// OIDC servers on loopback), driven as an app and a browser would: sign in with A, link B, sign in with B
/// alone (same user); B already owned is refused; blocking ends the session and refuses the login;
/// deletion makes the next login a new user. The directory is read from PostgreSQL at each step.
/// </summary>
public sealed class PostgresUsersEndToEndTests
{
    private const string Tenant = "users-e2e";

    [Fact]
    public async Task Sign_in_with_A_link_B_then_B_alone_is_the_same_user_an_owned_B_is_refused_blocking_and_deletion_hold()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var providerA = await FakeOidcProvider.StartAsync(TimeProvider.System);
        await using var providerB = await FakeOidcProvider.StartAsync(TimeProvider.System);
        await using var broker = await BrokerUnderTest.StartAsync(BrokerUnderTest.ReservePort(), Tenant, environment: new Dictionary<string, string?>
        {
            ["Broker__Storage"] = "Postgres",
            ["ConnectionStrings__Broker"] = database.ConnectionString,
        });
        await RegisterAsync(broker, "idp-a", providerA);
        await RegisterAsync(broker, "idp-b", providerB);

        providerA.User = new FakeUser("alice-a", "Alice", "alice@a.example");
        var alice = await SignInAsync(broker, "idp-a", providerA);

        providerB.User = new FakeUser("alice-b", "Alice B", "alice@b.example");
        var link = await broker.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/sessions/{alice.SessionId}/links", new { connection = "idp-b", state = "link-1" });
        var linked = await FinishAsync(broker, providerB, new Uri(link["loginUrl"]!.GetValue<string>()));
        Assert.Equal("link-1", linked.State);
        Assert.Equal(alice.UserId, (await ExchangeAsync(broker, linked.Code!)).UserId);
        var aliceB = await SignInAsync(broker, "idp-b", providerB);
        Assert.Equal(alice.UserId, aliceB.UserId);
        Assert.Equal([alice.UserId], await DirectoryAsync(broker, "?connection=idp-b"));

        providerA.User = new FakeUser("bob-a", "Bob", "bob@a.example");
        var bob = await SignInAsync(broker, "idp-a", providerA);
        var bobLink = await broker.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/sessions/{bob.SessionId}/links", new { connection = "idp-b" });
        var refused = await FinishAsync(broker, providerB, new Uri(bobLink["loginUrl"]!.GetValue<string>())); // still alice-b at B
        Assert.Equal(("access_denied", "identity already linked to another user"), (refused.Error, refused.Description));
        Assert.Equal([alice.UserId], await DirectoryAsync(broker, "?connection=idp-b"));

        var blocked = await broker.JsonAsync(HttpMethod.Patch, $"/api/tenants/{Tenant}/users/{alice.UserId}", new { blocked = true });
        Assert.True(blocked["blocked"]!.GetValue<bool>());
        foreach (var session in new[] { alice.SessionId, aliceB.SessionId })
        {
            var view = await broker.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}/sessions/{session}");
            Assert.Equal(("ended", "revoked"), (view["status"]!.GetValue<string>(), view["endReason"]!.GetValue<string>()));
        }
        providerA.User = new FakeUser("alice-a", "Alice", "alice@a.example");
        var blockedLogin = await BeginAndFinishAsync(broker, "idp-a", providerA);
        Assert.Equal(("access_denied", "user blocked"), (blockedLogin.Error, blockedLogin.Description));
        Assert.Equal([alice.UserId], await DirectoryAsync(broker, "?q=alice"));

        using (var deleted = await broker.SendAsync(HttpMethod.Delete, $"/api/tenants/{Tenant}/users/{alice.UserId}"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using (var gone = await broker.SendAsync(HttpMethod.Get, $"/api/tenants/{Tenant}/users/{alice.UserId}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var again = await SignInAsync(broker, "idp-b", providerB);
        Assert.NotEqual(alice.UserId, again.UserId);
        Assert.Equal([bob.UserId, again.UserId], await DirectoryAsync(broker, ""));
    }

    private static async Task RegisterAsync(BrokerUnderTest broker, string connection, FakeOidcProvider provider)
    {
        using var put = await broker.SendAsync(HttpMethod.Put, $"/api/tenants/{Tenant}/connections/{connection}", new
        {
            type = "oidc", clientId = provider.ClientId, clientSecret = provider.ClientSecret, issuer = provider.Issuer,
        });
        Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
    }

    private sealed record AppReturn(string? Code, string? State, string? Error, string? Description);

    /// <summary>The provider's part and the broker's callback: where the browser lands at the app.</summary>
    private static async Task<AppReturn> FinishAsync(BrokerUnderTest broker, FakeOidcProvider provider, Uri authorizeUrl)
    {
        var query = await provider.FollowAuthorizeAsync(authorizeUrl);
        using var back = await broker.BrowseAsync(QueryHelpers.AddQueryString(broker.CallbackUrl, query!));
        Assert.True(back.StatusCode == HttpStatusCode.Redirect, await back.Content.ReadAsStringAsync());
        var app = QueryHelpers.ParseQuery(back.Headers.Location!.Query);
        string? Get(string name) => app.TryGetValue(name, out var value) ? value.ToString() : null;
        return new AppReturn(Get("code"), Get("state"), Get("error"), Get("error_description"));
    }

    private static async Task<AppReturn> BeginAndFinishAsync(BrokerUnderTest broker, string connection, FakeOidcProvider provider)
    {
        using var login = await broker.BrowseAsync($"/t/{Tenant}/login?connection={connection}&state=s");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        return await FinishAsync(broker, provider, login.Headers.Location!);
    }

    private static async Task<(string SessionId, string UserId)> SignInAsync(BrokerUnderTest broker, string connection, FakeOidcProvider provider)
    {
        var back = await BeginAndFinishAsync(broker, connection, provider);
        Assert.True(back.Code is not null, $"{back.Error}: {back.Description}");
        return await ExchangeAsync(broker, back.Code);
    }

    private static async Task<(string SessionId, string UserId)> ExchangeAsync(BrokerUnderTest broker, string code)
    {
        var exchange = await broker.JsonAsync(HttpMethod.Post, $"/api/tenants/{Tenant}/sessions/exchange", new { code });
        return (exchange["sessionId"]!.GetValue<string>(), exchange["user"]!["id"]!.GetValue<string>());
    }

    private static async Task<List<string>> DirectoryAsync(BrokerUnderTest broker, string query) =>
        (await broker.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}/users{query}"))["items"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()).ToList();
}

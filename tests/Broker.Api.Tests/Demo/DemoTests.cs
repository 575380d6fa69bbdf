using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests.Demo;

/// <summary>The demo app: a tenant played by the broker, signing in through the demo tenant's OpenID Provider,
/// driven here the way a browser drives it (redirects followed one by one, cookies kept).</summary>
public sealed class DemoTests : IDisposable
{
    private readonly BrokerTestHost host = new(new Dictionary<string, string?> { ["Broker:Demo:Enabled"] = "true" });

    [Fact]
    public async Task The_demo_signs_in_through_the_openid_provider_shows_the_session_refreshes_and_signs_out()
    {
        using var api = new TestApi(host);
        var html = await (await api.GetAsync("/demo/")).Content.ReadAsStringAsync();
        Assert.Contains("href=\"/demo/signin\"", html);

        using var signIn = await api.GetAsync("/demo/signin");
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var authorize = signIn.Headers.Location!.OriginalString;
        Assert.StartsWith("/t/demo/authorize?client_id=demo&", authorize);
        Assert.Contains("code_challenge_method=S256", authorize);
        using var toIdp = await api.GetAsync(authorize);
        var callback = await api.ApproveAtDevIdpAsync(toIdp.Headers.Location!, "dana");
        using var toApp = await api.GetAsync(callback.PathAndQuery);
        Assert.StartsWith("http://localhost/demo/callback?code=", toApp.Headers.Location!.ToString());
        using var backHome = await api.GetAsync(toApp.Headers.Location!.PathAndQuery);
        Assert.Equal("http://localhost/demo/", backHome.Headers.Location!.ToString());

        var session = JsonNode.Parse(await (await api.GetAsync("/demo/session")).Content.ReadAsStringAsync())!;
        Assert.Equal(("active", "dana"), (session["status"]!.GetValue<string>(), session["user"]!["subject"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Post, "/demo/refresh", null)).StatusCode);

        // Sign-out is RP-initiated logout at the provider, with the id_token as the hint.
        using var signOut = await api.SendAsync(HttpMethod.Post, "/demo/logout", null);
        Assert.Equal(HttpStatusCode.SeeOther, signOut.StatusCode);
        Assert.StartsWith("/t/demo/end_session?id_token_hint=", signOut.Headers.Location!.OriginalString);
        using var ended = await api.GetAsync(signOut.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        Assert.StartsWith("http://localhost/demo/", ended.Headers.Location!.ToString());
        var view = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/demo/sessions/{session["sessionId"]}", TestApi.Admin));
        Assert.Equal(("ended", "logout"), (view["status"]!.GetValue<string>(), view["endReason"]!.GetValue<string>()));
        // Signed out is an answer, not an error: the page polls it without filling the console with 401s.
        using var signedOut = await api.GetAsync("/demo/session");
        Assert.Equal(HttpStatusCode.OK, signedOut.StatusCode);
        Assert.Equal("null", await signedOut.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_callback_with_a_state_the_demo_did_not_send_is_ignored_and_said_so()
    {
        using var api = new TestApi(host);
        using var forged = await api.GetAsync("/demo/callback?code=x&state=not-mine&iss=http%3A%2F%2Flocalhost%2Ft%2Fdemo");

        Assert.Equal(HttpStatusCode.Redirect, forged.StatusCode);
        Assert.Equal("state_mismatch", TestApi.Param(forged.Headers.Location!, "error"));
        Assert.Equal("null", await (await api.GetAsync("/demo/session")).Content.ReadAsStringAsync());
    }

    public void Dispose() => host.Dispose();
}

using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests.Demo;

/// <summary>The demo app: a tenant played by the broker, driven here the way its page drives it.</summary>
public sealed class DemoTests : IDisposable
{
    private readonly BrokerTestHost host = new(new Dictionary<string, string?> { ["Broker:Demo:Enabled"] = "true" });

    [Fact]
    public async Task The_demo_page_signs_in_shows_the_session_refreshes_and_signs_out()
    {
        using var api = new TestApi(host);
        using var page = await api.GetAsync("/demo/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"sign-in\"", html);
        Assert.Contains("href=\"/t/demo/login?return_to=http%3A%2F%2Flocalhost%2Fdemo%2F\"", html);

        var demo = new TestTenant("demo", "", "http://localhost/demo/");
        var back = await api.SignInAsync(demo, "dana", appState: "page-state");
        Assert.Equal("http://localhost/demo/", back.GetLeftPart(UriPartial.Path));
        Assert.Equal("page-state", TestApi.Param(back, "state"));

        using var exchanged = await api.SendAsync(HttpMethod.Post, "/demo/exchange", null, new { code = TestApi.Param(back, "code") });
        Assert.Equal(HttpStatusCode.OK, exchanged.StatusCode);
        var session = JsonNode.Parse(await (await api.GetAsync("/demo/session")).Content.ReadAsStringAsync())!;
        Assert.Equal("active", session["status"]!.GetValue<string>());
        Assert.Equal("dana", session["user"]!["subject"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(HttpMethod.Post, "/demo/refresh", null)).StatusCode);

        using var signOut = await api.SendAsync(HttpMethod.Post, "/demo/logout", null);
        Assert.Equal(HttpStatusCode.SeeOther, signOut.StatusCode);
        using var brokerLogout = await api.GetAsync(signOut.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, brokerLogout.StatusCode);
        Assert.Equal("http://localhost/demo/", brokerLogout.Headers.Location!.OriginalString);
        // Signed out is an answer, not an error: the page polls it without filling the console with 401s.
        using var signedOut = await api.GetAsync("/demo/session");
        Assert.Equal(HttpStatusCode.OK, signedOut.StatusCode);
        Assert.Equal("null", await signedOut.Content.ReadAsStringAsync());
    }

    public void Dispose() => host.Dispose();
}

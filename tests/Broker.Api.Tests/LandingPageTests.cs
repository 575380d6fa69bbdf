using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests;

/// <summary>What <c>/</c> shows a person who opens the broker's address, and the icon every page names.</summary>
public sealed class LandingPageTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_root_says_what_this_is_and_links_the_api_reference_health_and_the_demo_when_it_runs(bool demo)
    {
        using var host = new BrokerTestHost(new Dictionary<string, string?> { ["Broker:Demo:Enabled"] = demo ? "true" : "false" });
        using var http = host.CreateBrowser();

        using var page = await http.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("identity broker", html);
        Assert.Contains("href=\"/docs\"", html);
        Assert.Contains("href=\"/healthz\"", html);
        Assert.Equal(demo, html.Contains("href=\"/demo/\"", StringComparison.Ordinal));
        Assert.Contains("href=\"/favicon.svg\"", html);
        foreach (var icon in new[] { "/favicon.svg", "/favicon.ico" })
        {
            using var response = await http.GetAsync(icon);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        }
    }
}

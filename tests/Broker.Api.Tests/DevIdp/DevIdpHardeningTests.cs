using System.Net;
using Broker.Api.Tests.Support;

namespace Broker.Api.Tests.DevIdp;

/// <summary>The development IdP, on by default in Development, is as hard to abuse as the broker:
/// it redirects only to the broker's own callback, never answers 500, and its page has a CSP.</summary>
public sealed class DevIdpHardeningTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Theory]
    [InlineData("https://evil.example/", "token")]
    [InlineData("https://evil.example/", "code")]
    [InlineData("http://localhost/t/acme/callback/../../evil", "code")]
    [InlineData("http://localhost/t/acme/callbackx", "code")]
    [InlineData("http://localhost/t/ACME/callback", "code")]
    [InlineData("http://localhost.evil.example/t/acme/callback", "code")]
    [InlineData("http://localhost/t/acme/callback?x=1", "code")]
    [InlineData("http://localhost/t/acme/callback\r", "code")]
    [InlineData("http://localhost/t/acme/callback\r\nSet-Cookie: a=b", "code")]
    public async Task Only_the_brokers_own_callback_is_a_redirect_target(string redirectUri, string responseType)
    {
        var query = $"client_id=x&redirect_uri={Uri.EscapeDataString(redirectUri)}&response_type={responseType}&state=s";

        using var shown = await api.GetAsync($"/dev-idp/authorize?{query}");
        using var submitted = await api.Http.PostAsync("/dev-idp/authorize", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = "x", ["redirect_uri"] = redirectUri, ["response_type"] = responseType, ["username"] = "alice", ["action"] = "approve",
        }));

        foreach (var answer in new[] { shown, submitted })
        {
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            Assert.Null(answer.Headers.Location);
        }
    }

    [Fact]
    public async Task An_unsupported_response_type_goes_back_only_to_a_broker_callback()
    {
        using var answer = await api.GetAsync("/dev-idp/authorize?client_id=x&redirect_uri=http%3A%2F%2Flocalhost%2Ft%2Facme%2Fcallback&response_type=token&state=s");

        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        Assert.StartsWith("http://localhost/t/acme/callback?error=unsupported_response_type", answer.Headers.Location!.AbsoluteUri);
    }

    [Fact]
    public async Task The_sign_in_page_runs_no_script_and_cannot_be_framed()
    {
        using var page = await api.GetAsync("/dev-idp/authorize?client_id=x&redirect_uri=http%3A%2F%2Flocalhost%2Ft%2Facme%2Fcallback&response_type=code");
        using var error = await api.GetAsync("/dev-idp/authorize?client_id=x&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code");

        foreach (var answer in new[] { page, error })
        {
            var csp = answer.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("default-src 'none'", csp);
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.DoesNotContain("script-src", csp);
            Assert.Equal("nosniff", answer.Headers.GetValues("X-Content-Type-Options").Single());
        }
    }

    [Theory]
    [InlineData("/dev-idp/authorize")]
    [InlineData("/dev-idp/token")]
    [InlineData("/dev-idp/revoke")]
    [InlineData("/dev-idp/introspect")]
    public async Task A_form_over_the_limits_or_a_broken_multipart_is_a_400(string path)
    {
        var tooMany = new FormUrlEncodedContent(Enumerable.Range(0, 2000).Select(i => new KeyValuePair<string, string>($"f{i}", "1")));
        var hugeValue = new FormUrlEncodedContent([new("token", new string('v', 5_000_000))]);
        var multipart = new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"u8.ToArray());
        multipart.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");

        foreach (var content in new HttpContent[] { tooMany, hugeValue, multipart })
        {
            using var answer = await api.Http.PostAsync(path, content);
            Assert.True((int)answer.StatusCode is >= 400 and < 500, $"{path}: {(int)answer.StatusCode}");
        }
    }

    public void Dispose() => api.Dispose();
}

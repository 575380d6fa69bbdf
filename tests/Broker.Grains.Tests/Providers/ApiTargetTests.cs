using Broker.Grains.Connectors.Api;

namespace Broker.Grains.Tests.Providers;

public sealed class ApiTargetTests
{
    private static readonly Uri Root = new("https://api.example.com/");
    private static readonly Uri V1 = new("https://api.example.com/v1/");

    [Theory]
    [InlineData("https://api.example.com/", "user", "https://api.example.com/user")]
    [InlineData("https://api.example.com/", "/user/emails", "https://api.example.com/user/emails")]
    [InlineData("https://api.example.com/", "", "https://api.example.com/")]
    [InlineData("https://api.example.com/v1/", "me/profile", "https://api.example.com/v1/me/profile")]
    [InlineData("https://api.example.com/v1/", "/v1/me/profile", "https://api.example.com/v1/me/profile")]
    [InlineData("https://api.example.com/v1", "me", "https://api.example.com/v1/me")]
    [InlineData("https://api.example.com/v1/", "/v1", "https://api.example.com/v1")]
    [InlineData("https://api.example.com/v1/", "repos/a%20b/c%2Bd", "https://api.example.com/v1/repos/a%20b/c%2Bd")]
    [InlineData("https://api.example.com/v1/", "files/v1.2.tar.gz", "https://api.example.com/v1/files/v1.2.tar.gz")]
    [InlineData("https://api.example.com/v1/", "a..b/...x/.hidden", "https://api.example.com/v1/a..b/...x/.hidden")]
    [InlineData("http://127.0.0.1:5000/api/v3/", "user", "http://127.0.0.1:5000/api/v3/user")]
    [InlineData("https://api.example.com/", "x/a:b;c=d/e", "https://api.example.com/x/a:b;c=d/e")]
    public void Paths_below_the_base_resolve(string baseUrl, string path, string expected)
    {
        var target = ApiTarget.Resolve(new Uri(baseUrl), path, null);

        Assert.True(target.IsValid, target.Error);
        Assert.Equal(expected, target.Url!.AbsoluteUri);
    }

    [Fact]
    public void The_query_is_encoded_and_appended()
    {
        var target = ApiTarget.Resolve(V1, "search", new Dictionary<string, string> { ["q"] = "a&b=c d", ["页"] = "2", ["empty"] = "" });

        Assert.Equal("https://api.example.com/v1/search?q=a%26b%3Dc%20d&%E9%A1%B5=2&empty=", target.Url!.AbsoluteUri);
    }

    [Theory]
    // dot segments, raw and encoded, any case, double-encoded, with path parameters
    [InlineData("../admin")]
    [InlineData("me/../../admin")]
    [InlineData("./me")]
    [InlineData("me/.")]
    [InlineData("%2e%2e/admin")]
    [InlineData("%2E%2E/admin")]
    [InlineData("%2e./admin")]
    [InlineData(".%2E/admin")]
    [InlineData("%252e%252e/admin")]
    [InlineData("%25252e%25252e/admin")]
    [InlineData("..;/admin")]
    [InlineData("%2e%2e%3bjsessionid=1/admin")]
    [InlineData(".../admin")]
    [InlineData("..%20/admin")]
    [InlineData("%2e")]
    // encoded slashes and backslashes, raw backslashes
    [InlineData("..%2fadmin")]
    [InlineData("me%2F..%2F..%2Fadmin")]
    [InlineData("%252f")]
    [InlineData("..%5cadmin")]
    [InlineData("me%5C..%5Cadmin")]
    [InlineData("..\\admin")]
    [InlineData("me\\admin")]
    // absolute and scheme-relative URLs, other hosts and ports, userinfo
    [InlineData("https://evil.example/x")]
    [InlineData("http:evil.example")]
    [InlineData("javascript:alert(1)")]
    [InlineData("a:b")] // a first segment with ':' reads as a scheme (RFC 3986 §4.2)
    [InlineData("//evil.example/x")]
    [InlineData("///evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("\\\\evil.example")]
    [InlineData("@evil.example/x")]
    [InlineData("user@evil.example")]
    [InlineData(":443@evil.example")]
    [InlineData("me//x")]
    // control characters, raw or encoded; spaces and non-ASCII unencoded
    [InlineData("me\r\nHost: evil")]
    [InlineData("me%0d%0aHost:%20evil")]
    [InlineData("me%00.json")]
    [InlineData("me\t")]
    [InlineData("a b")]
    [InlineData("用户")]
    // query and fragment smuggled in the path, malformed escapes
    [InlineData("me?access_token=x")]
    [InlineData("me#x")]
    [InlineData("me%")]
    [InlineData("me%zz")]
    [InlineData("me%2")]
    public void Escapes_are_refused(string path)
    {
        var target = ApiTarget.Resolve(V1, path, null);

        Assert.False(target.IsValid, $"'{path}' resolved to {target.Url}");
        Assert.False(string.IsNullOrEmpty(target.Error));
    }

    [Theory]
    [InlineData("/v10/me")]
    [InlineData("/v1x/me")]
    [InlineData("/v2/me")]
    [InlineData("/")]
    [InlineData("/V1/me")]
    [InlineData("/admin")]
    [InlineData("/v%31/me")]
    public void Host_absolute_paths_outside_the_base_path_are_refused(string path)
    {
        Assert.False(ApiTarget.Resolve(V1, path, null).IsValid);
    }

    [Theory]
    [InlineData("https://user:pw@api.example.com/")]
    [InlineData("https://api.example.com/?a=b")]
    [InlineData("https://api.example.com/#f")]
    [InlineData("ftp://api.example.com/")]
    public void A_bad_base_is_refused(string baseUrl)
    {
        Assert.False(ApiTarget.Resolve(new Uri(baseUrl), "me", null).IsValid);
    }

    [Fact]
    public void Empty_query_names_and_missing_or_huge_paths_are_refused()
    {
        Assert.False(ApiTarget.Resolve(Root, "me", new Dictionary<string, string> { [""] = "x" }).IsValid);
        Assert.False(ApiTarget.Resolve(Root, null, null).IsValid);
        Assert.False(ApiTarget.Resolve(Root, new string('a', 3000), null).IsValid);
    }

    [Fact]
    public void The_result_never_leaves_the_base_host_or_port()
    {
        var target = ApiTarget.Resolve(new Uri("https://api.example.com:8443/v1/"), "me", null);

        Assert.Equal("api.example.com", target.Url!.Host);
        Assert.Equal(8443, target.Url.Port);
    }
}

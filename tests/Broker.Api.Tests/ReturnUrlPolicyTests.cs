using System.Net;
using Broker.Api.Tests.Support;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Api.Tests;

/// <summary>return_to matching (docs/design.md §6): scheme, host (any case), port and path exactly; nothing a parser could read two ways.</summary>
public sealed class ReturnUrlPolicyTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private const string Registered = "https://app.example.com/cb";
    private readonly TestApi api = new(fixture.Host);

    public static TheoryData<string> Accepted() =>
    [
        "https://app.example.com/cb",
        "https://app.example.com/cb?next=%2Fhome&x=1",
        "https://APP.Example.COM/cb",
        "HTTPS://app.example.com/cb",
        "https://app.example.com:443/cb",
    ];

    public static TheoryData<string> Refused() =>
    [
        "https://app.example.com/cb/extra",
        "https://app.example.com/cbx",
        "https://app.example.com/",
        "https://app.example.com",
        "https://app.example.com/cb/",
        "https://app.example.com/CB",
        "https://app.example.com@evil.example/cb",
        "https://user:pw@app.example.com/cb",
        "https://app.example.com\\@evil.example/cb",
        "https://app.example.com\\cb",
        "https:\\\\evil.example/cb",
        "javascript:alert(1)//app.example.com/cb",
        "data:text/html,<script>alert(1)</script>",
        "http://app.example.com/cb",
        "ftp://app.example.com/cb",
        "https://app.example.com:8443/cb",
        "https://evil.example/cb",
        "https://app.example.com.evil.example/cb",
        "https://app.example.com/x/%2e%2e/cb",
        "https://app.example.com/x/%2E%2E/cb",
        "https://app.example.com/x/../cb",
        "https://app.example.com/cb%2F",
        "https://app.example.com/x%2fcb",
        "https://app.example.com%2Fcb",
        "https://app.example.com/cb#fragment",
        "https://app.example.com/cb#",
        "/cb",
        "//evil.example/cb",
        "cb",
        " https://app.example.com/cb",
        "https://app.example.com/cb ",
        "https://app.example.com/cb\r\nSet-Cookie: x=y",
        "https://app.example.com/c\tb",
        "https://app.exämple.com/cb",
        "https://app.example.com/cb?code=attacker",
        "https://app.example.com/cb?x=1&state=attacker",
        "",
    ];

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Matching_urls_are_accepted(string returnTo) => Assert.NotNull(ReturnUrlPolicy.Match(returnTo, [Registered]));

    [Theory]
    [MemberData(nameof(Refused))]
    public void Everything_else_is_refused(string returnTo) => Assert.Null(ReturnUrlPolicy.Match(returnTo, [Registered]));

    [Theory]
    [InlineData("https://app.example.com/cb", null)]
    [InlineData("http://localhost:3000/auth/done", null)]
    [InlineData("https://app.example.com/cb?x=1", "query")]
    [InlineData("https://app.example.com/cb#x", "fragment")]
    [InlineData("javascript:alert(1)", "absolute")]
    [InlineData("https://u@app.example.com/cb", "credentials")]
    public void Registration_refuses_what_could_never_match_safely(string url, string? problemMentions)
    {
        var problem = ReturnUrlPolicy.CheckRegistration(url);
        if (problemMentions is null)
            Assert.Null(problem);
        else
            Assert.Contains(problemMentions, problem);
    }

    [Fact]
    public void The_query_is_kept_and_the_broker_parameters_are_appended() =>
        Assert.Equal("https://app.example.com/cb?next=%2Fhome&code=abc&state=s%20t",
            ReturnUrlPolicy.Append("https://app.example.com/cb?next=%2Fhome", ("code", "abc"), ("state", "s t")));

    [Theory]
    [MemberData(nameof(Accepted))]
    public async Task Login_redirects_to_the_provider_for_a_matching_return_to(string returnTo)
    {
        var tenant = await CreateTenantAsync();
        using var response = await api.GetAsync(LoginUrl(tenant, returnTo));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://localhost/dev-idp/authorize?", response.Headers.Location!.AbsoluteUri);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Login_answers_a_400_page_and_never_redirects_for_anything_else(string returnTo)
    {
        var tenant = await CreateTenantAsync();
        using var response = await api.GetAsync(LoginUrl(tenant, returnTo));
        await TestApi.AssertErrorPageAsync(response, HttpStatusCode.BadRequest);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Logout_checks_return_to_the_same_way(string returnTo)
    {
        var tenant = await CreateTenantAsync();
        using var response = await api.GetAsync(QueryHelpers.AddQueryString($"/t/{tenant.Id}/logout", "return_to", returnTo));
        await TestApi.AssertErrorPageAsync(response, HttpStatusCode.BadRequest);
    }

    private async Task<TestTenant> CreateTenantAsync()
    {
        var tenant = await api.CreateTenantAsync(Registered);
        await api.PutDevConnectionAsync(tenant);
        return tenant;
    }

    private static string LoginUrl(TestTenant tenant, string returnTo) =>
        QueryHelpers.AddQueryString($"/t/{tenant.Id}/login", new Dictionary<string, string?> { ["return_to"] = returnTo, ["state"] = "s" });

    public void Dispose() => api.Dispose();
}

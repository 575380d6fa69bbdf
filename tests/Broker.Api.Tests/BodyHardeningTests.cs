using System.Net;
using System.Text;
using Broker.Api.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Api.Tests;

/// <summary>
/// docs/design.md §5: no input produces a 500, and what a client did wrong is logged below Error. Every
/// route that reads a body gets bodies no well-behaved client sends, over a real Kestrel.
/// </summary>
public sealed class BodyHardeningTests : IClassFixture<BodyHardeningTests.KestrelFixture>, IDisposable
{
    private readonly KestrelFixture fixture;
    private readonly TestApi api;

    public BodyHardeningTests(KestrelFixture fixture)
    {
        this.fixture = fixture;
        api = new TestApi(fixture.Host);
        api.Http.BaseAddress = fixture.Host.KestrelAddress;
    }

    public sealed class KestrelFixture : IDisposable
    {
        public ErrorLog Errors { get; } = new();

        public BrokerTestHost Host { get; }

        // The demo on too: it is on by default in Development, and its routes are served beside the others.
        public KestrelFixture() => Host = BrokerTestHost.StartKestrel(s => s.AddSingleton<ILoggerProvider>(Errors),
            new Dictionary<string, string?> { ["Broker:Demo:Enabled"] = "true" });

        public void Dispose() => Host.Dispose();
    }

    /// <summary>Each route that reads a body, as (method, path template); {t} is a real tenant, {s} a session id.</summary>
    private static readonly (string Method, string Path)[] BodyRoutes =
    [
        ("POST", "/admin/tenants"),
        ("PATCH", "/api/tenants/{t}"),
        ("PUT", "/api/tenants/{t}/connections/c1"),
        ("POST", "/api/tenants/{t}/sessions/exchange"),
        ("POST", "/api/tenants/{t}/sessions/{s}/upstream"),
        ("POST", "/dev-idp/authorize"),
        ("POST", "/dev-idp/token"),
        ("POST", "/dev-idp/revoke"),
        ("POST", "/dev-idp/introspect"),
        ("PUT", "/api/tenants/{t}/clients/c1"),
        ("PATCH", "/api/tenants/{t}/users/usr_00000000000000000000000000000000"),
        ("POST", "/api/tenants/{t}/sessions/{s}/links"),
        ("POST", "/t/{t}/token"),
        ("POST", "/t/{t}/revoke"),
        ("POST", "/t/{t}/introspect"),
        ("POST", "/t/{t}/userinfo"),
    ];

    /// <summary>Bodies, as (name, extra headers, bytes).</summary>
    private static IEnumerable<(string Name, string Headers, byte[] Body)> HostileBodies()
    {
        static byte[] Chunked(string chunks) => Encoding.ASCII.GetBytes(chunks);
        byte[] invalidUtf8 = [(byte)'{', (byte)'"', 0xff, (byte)'"', (byte)':', (byte)'1', (byte)'}'];
        yield return ("invalid UTF-8 JSON", "Content-Type: application/json", invalidUtf8);
        yield return ("invalid UTF-8 in a value", "Content-Type: application/json", [.. "{\"id\":\""u8.ToArray(), 0xc3, 0x28, .. "\"}"u8.ToArray()]);
        yield return ("lone surrogate escape", "Content-Type: application/json", RawHttp.Bytes("{\"displayName\":\"\\ud800\",\"code\":\"\\udfff\"}"));
        yield return ("lone surrogate in a name", "Content-Type: application/json", RawHttp.Bytes("{\"\\ud800\":1}"));
        yield return ("truncated JSON", "Content-Type: application/json", RawHttp.Bytes("{\"id\":"));
        yield return ("deep nesting", "Content-Type: application/json", RawHttp.Bytes(new string('[', 5000) + new string(']', 5000)));
        yield return ("NUL bytes", "Content-Type: application/json", [0, 0, 0, 0]);
        yield return ("form", "Content-Type: application/x-www-form-urlencoded", RawHttp.Bytes("a=1&b=%ZZ&c"));
        yield return ("too many form fields", "Content-Type: application/x-www-form-urlencoded",
            RawHttp.Bytes(string.Join('&', Enumerable.Range(0, 3000).Select(i => $"f{i}=1"))));
        yield return ("malformed multipart", "Content-Type: multipart/form-data; boundary=xyz", RawHttp.Bytes("--xyz\r\nContent-Disposition: form-data\r\n\r\nno end"));
        yield return ("multipart without boundary", "Content-Type: multipart/form-data", RawHttp.Bytes("--x\r\n\r\n"));
        yield return ("multipart with a huge header", "Content-Type: multipart/form-data; boundary=b",
            RawHttp.Bytes($"--b\r\nContent-Disposition: form-data; name=\"{new string('n', 40_000)}\"\r\n\r\nv\r\n--b--\r\n"));
        yield return ("chunk size overflow", "Content-Type: application/json\r\nTransfer-Encoding: chunked", Chunked("ffffffffffffffff\r\n{}\r\n0\r\n\r\n"));
        yield return ("malformed chunk", "Content-Type: application/json\r\nTransfer-Encoding: chunked", Chunked("zz\r\n{}\r\n0\r\n\r\n"));
        yield return ("chunked form overflow", "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked", Chunked("ffffffffffffffff\r\na=1\r\n0\r\n\r\n"));
    }

    [Fact]
    public async Task No_hostile_body_on_any_route_is_a_500_or_logged_as_an_error()
    {
        var tenant = await api.CreateTenantAsync();
        var session = new string('S', 43);
        var failures = new List<string>();
        foreach (var (method, template) in BodyRoutes)
        {
            var path = template.Replace("{t}", tenant.Id).Replace("{s}", session);
            foreach (var (name, headers, body) in HostileBodies())
            {
                var length = headers.Contains("chunked", StringComparison.Ordinal) ? "" : $"\r\nContent-Length: {body.Length}";
                var answer = await RawHttp.SendAsync(fixture.Host.KestrelAddress,
                    $"{method} {path} HTTP/1.1\r\nAuthorization: Bearer {TestApi.Admin}\r\n{headers}{length}", body);
                if (answer.Status is < 400 or >= 500)
                    failures.Add($"{method} {path} with {name}: {answer.Status} {answer.Body[..Math.Min(200, answer.Body.Length)]}");
            }
        }

        Assert.Empty(failures);
        Assert.Empty(fixture.Errors.Entries);
    }

    [Fact]
    public async Task Invalid_utf8_in_a_patch_of_an_unknown_tenant_is_a_400_problem()
    {
        byte[] body = [(byte)'{', (byte)'"', 0xff, (byte)'"', (byte)':', (byte)'1', (byte)'}'];

        var answer = await RawHttp.SendAsync(fixture.Host.KestrelAddress,
            $"PATCH /api/tenants/no-such-tenant HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {body.Length}", body);

        Assert.Equal(400, answer.Status);
        Assert.Contains("\"code\":\"invalid_request\"", answer.Body);
    }

    [Theory]
    [InlineData("ffffffffffffffff")]
    [InlineData("zz")]
    public async Task A_broken_chunked_body_is_a_400_logged_below_error(string chunkSize)
    {
        var tenant = await api.CreateTenantAsync();

        var answer = await RawHttp.SendAsync(fixture.Host.KestrelAddress,
            $"PATCH /api/tenants/{tenant.Id} HTTP/1.1\r\nAuthorization: Bearer {tenant.ApiKey}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
            RawHttp.Bytes($"{chunkSize}\r\n{{}}\r\n0\r\n\r\n"));

        Assert.Equal(400, answer.Status);
        Assert.Empty(fixture.Errors.Entries);
    }

    [Theory]
    [InlineData("clientId", "client\u0000id")]
    [InlineData("clientId", "client\r\nid")]
    [InlineData("clientSecret", "secret\nX-Injected: 1")]
    [InlineData("extraAuthorizeParams.hd", "example.com\r\n")]
    [InlineData("options.protocol", "oidc\u0000")]
    [InlineData("scopes[0]", "openid\u202E")]
    public async Task Control_and_bidirectional_characters_in_a_connection_are_400_and_store_nothing(string field, string value)
    {
        var tenant = await api.CreateTenantAsync();
        var body = new Dictionary<string, object?>
        {
            ["type"] = "authing",
            ["clientId"] = "client-id",
            ["clientSecret"] = "client-secret",
            ["baseUrl"] = "https://app.authing.example",
        };
        switch (field)
        {
            case "extraAuthorizeParams.hd": body["extraAuthorizeParams"] = new Dictionary<string, string> { ["hd"] = value }; break;
            case "options.protocol": body["options"] = new Dictionary<string, string> { ["protocol"] = value }; break;
            case "scopes[0]": body["scopes"] = new[] { value }; break;
            default: body[field] = value; break;
        }

        using var answer = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/c1", tenant.ApiKey, body);

        var problem = await TestApi.AssertProblemAsync(answer, HttpStatusCode.BadRequest, "invalid_request");
        Assert.NotNull(problem["errors"]![field]);
        await TestApi.AssertProblemAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/connections/c1", tenant.ApiKey), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("Acme\u202Eevil")]
    [InlineData("\uFEFFAcme")]
    [InlineData("Acme\u2066")]
    [InlineData("Acme\u0085")]
    public async Task A_display_name_that_would_read_differently_on_a_page_is_400(string displayName)
    {
        var tenant = await api.CreateTenantAsync();

        using var patched = await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey, new { displayName });
        using var created = await api.SendAsync(HttpMethod.Post, "/admin/tenants", TestApi.Admin,
            new { id = TestApi.NewId(), displayName, returnUrls = Array.Empty<string>() });

        await TestApi.AssertProblemAsync(patched, HttpStatusCode.BadRequest, "invalid_request");
        await TestApi.AssertProblemAsync(created, HttpStatusCode.BadRequest, "invalid_request");
        using var view = await api.SendAsync(HttpMethod.Get, $"/admin/tenants/{tenant.Id}", TestApi.Admin);
        Assert.Equal($"App {tenant.Id}", (await TestApi.ReadJsonAsync(view))["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_upstream_proxys_body_is_passed_on_as_it_is_but_its_other_strings_are_checked()
    {
        var tenant = await api.CreateTenantAsync();
        var path = $"/api/tenants/{tenant.Id}/sessions/{new string('S', 43)}/upstream";

        // A body with a newline is the tenant's content for the provider: past the body checks (404: no such session).
        using var withNewline = await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { method = "POST", path = "issues", body = new { text = "line 1\nline 2" } });
        using var badQuery = await api.SendAsync(HttpMethod.Post, path, tenant.ApiKey, new { method = "GET", path = "user", query = new Dictionary<string, string> { ["q"] = "a\r\nb" } });

        await TestApi.AssertProblemAsync(withNewline, HttpStatusCode.NotFound, "not_found");
        await TestApi.AssertProblemAsync(badQuery, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Repeated_return_urls_and_scopes_are_400()
    {
        var tenant = await api.CreateTenantAsync();

        using var urls = await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}", tenant.ApiKey,
            new { returnUrls = new[] { "https://a.example/cb", "https://b.example/cb", "https://A.example/cb" } });
        using var scopes = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/c1", tenant.ApiKey,
            new { type = "dev", scopes = new[] { "profile", "email", "profile" } });

        Assert.NotNull((await TestApi.AssertProblemAsync(urls, HttpStatusCode.BadRequest, "invalid_request"))["errors"]!["returnUrls[2]"]);
        Assert.NotNull((await TestApi.AssertProblemAsync(scopes, HttpStatusCode.BadRequest, "invalid_request"))["errors"]!["scopes"]);
    }

    public void Dispose() => api.Dispose();
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Api.Tests.Support;

public sealed record TestTenant(string Id, string ApiKey, string ReturnUrl);

/// <summary>What the tests do over and over: make a tenant, call the API with a bearer, sign in through the dev IdP.</summary>
public sealed partial class TestApi(BrokerTestHost host) : IDisposable
{
    public const string Admin = BrokerTestHost.AdminToken;

    public HttpClient Http { get; } = host.CreateBrowser();

    public static string NewId(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}"[..20];

    public async Task<TestTenant> CreateTenantAsync(params string[] returnUrls)
    {
        var id = NewId();
        if (returnUrls.Length == 0)
            returnUrls = [$"https://app-{id}.example/callback"];
        using var response = await SendAsync(HttpMethod.Post, "/admin/tenants", Admin, new { id, displayName = $"App {id}", returnUrls });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await ReadJsonAsync(response);
        return new TestTenant(id, body["apiKey"]!.GetValue<string>(), returnUrls[0]);
    }

    public async Task PutDevConnectionAsync(TestTenant tenant, string connection = "dev")
    {
        using var response = await SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/connections/{connection}", tenant.ApiKey,
            new { type = "dev", clientId = $"client-{tenant.Id}", clientSecret = "dev-secret" });
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"PUT connection: {response.StatusCode}");
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? bearer, object? body = null, string? clientIp = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (bearer is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (body is string raw)
            request.Content = new StringContent(raw, Encoding.UTF8, "application/json");
        else if (body is not null)
            request.Content = JsonContent.Create(body);
        if (clientIp is not null)
            request.Headers.Add("X-Forwarded-For", clientIp);
        return Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery, string? clientIp = null) =>
        SendAsync(HttpMethod.Get, pathAndQuery, null, null, clientIp);

    public static async Task<JsonObject> ReadJsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    /// <summary>Asserts a problem+json answer and returns it.</summary>
    public static async Task<JsonObject> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? code = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        if (code is not null)
        {
            Assert.Equal(code, problem["code"]?.GetValue<string>());
            Assert.Equal($"https://broker.dev/problems/{code}", problem["type"]?.GetValue<string>());
        }
        Assert.DoesNotContain("   at ", text);
        return problem;
    }

    /// <summary>Asserts a short HTML error page: the status, no redirect, a trace id, nothing from the request echoed as markup.</summary>
    public static async Task AssertErrorPageAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("data-testid=\"trace-id\"", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("   at ", html);
    }

    /// <summary>Browser login through the dev IdP; returns where the broker finally sends the browser (the app's return URL).</summary>
    public async Task<Uri> SignInAsync(TestTenant tenant, string username = "alice", string? appState = "app-state", string? returnTo = null, string? clientIp = null)
    {
        var login = QueryHelpers.AddQueryString($"/t/{tenant.Id}/login", Query(("return_to", returnTo ?? tenant.ReturnUrl), ("state", appState)));
        using var toProvider = await GetAsync(login, clientIp);
        Assert.True(HttpStatusCode.Redirect == toProvider.StatusCode, $"login: {(int)toProvider.StatusCode} {await toProvider.Content.ReadAsStringAsync()}");
        var callback = await ApproveAtDevIdpAsync(toProvider.Headers.Location!, username);
        using var toApp = await GetAsync(callback.PathAndQuery, clientIp);
        Assert.True(HttpStatusCode.Redirect == toApp.StatusCode, $"callback: {(int)toApp.StatusCode} {await toApp.Content.ReadAsStringAsync()}");
        return toApp.Headers.Location!;
    }

    /// <summary>Shows the dev IdP's form and submits it; returns the broker callback URL the IdP redirects to.</summary>
    public async Task<Uri> ApproveAtDevIdpAsync(Uri authorizeUrl, string username, string action = "approve")
    {
        var form = await Http.GetStringAsync(authorizeUrl);
        var fields = HiddenField().Matches(form).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        fields["username"] = username;
        fields["action"] = action;
        using var submitted = await Http.PostAsync("/dev-idp/authorize", new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        return submitted.Headers.Location!;
    }

    /// <summary>Signs in and redeems the code: the session id and the exchange answer.</summary>
    public async Task<(string SessionId, JsonObject Exchange)> SignInAndExchangeAsync(TestTenant tenant, string username = "alice")
    {
        var code = Param(await SignInAsync(tenant, username), "code")!;
        using var exchanged = await SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/sessions/exchange", tenant.ApiKey, new { code });
        Assert.Equal(HttpStatusCode.OK, exchanged.StatusCode);
        var body = await ReadJsonAsync(exchanged);
        return (body["sessionId"]!.GetValue<string>(), body);
    }

    public static string? Param(Uri url, string name) =>
        QueryHelpers.ParseQuery(url.Query).TryGetValue(name, out var values) ? values.ToString() : null;

    public static IEnumerable<KeyValuePair<string, string?>> Query(params (string Name, string? Value)[] values) =>
        values.Where(v => v.Value is not null).Select(v => new KeyValuePair<string, string?>(v.Name, v.Value));

    public void Dispose() => Http.Dispose();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenField();
}

/// <summary>One host per test class; tests make their own tenants, so they never share data.</summary>
public sealed class HostFixture : IDisposable
{
    public BrokerTestHost Host { get; } = new();

    public void Dispose() => Host.Dispose();
}

using Microsoft.Extensions.Time.Testing;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Broker.Api.DevIdp;
using Broker.Grains.Connectors;
using Broker.Testing;
using Broker.Testing.Upstreams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Broker.Api.Tests.DevIdp;

/// <summary>The dev connector against the real dev IdP endpoints over real HTTP: the whole login, refresh and logout cycle.</summary>
public sealed partial class DevIdpRoundTripTests : IAsyncLifetime
{
    private const string RedirectUri = "https://broker.example/t/acme/callback";
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    private readonly TestHttpClientFactory httpClients = new();
    private readonly HttpClient browser = new(new SocketsHttpHandler { AllowAutoRedirect = false });
    private WebApplication app = null!;
    private string root = "";
    private IConnector connector = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDataProtection().SetApplicationName("dev-idp-tests");
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton(Options.Create(new DevIdpOptions { AccessTokenLifetime = TimeSpan.FromSeconds(120), BrokerBaseUrl = new Uri("https://broker.example/") }));
        app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.MapDevIdp();
        await app.StartAsync();
        root = app.Urls.First().TrimEnd('/') + "/dev-idp";
        var factory = new ConnectorFactory(httpClients, clock, new ConnectorOptions { DevIdpBaseUrl = new Uri(root + "/"), AllowHttpUpstreams = true });
        connector = factory.Create(new ConnectionConfig { Id = "dev", Type = ConnectionTypes.Dev });
    }

    public async Task DisposeAsync()
    {
        browser.Dispose();
        httpClients.Dispose();
        await app.DisposeAsync();
    }

    [Fact]
    public async Task Login_refresh_rotation_reuse_and_revocation_work_end_to_end()
    {
        var login = await LoginAsync("alice");

        Assert.Equal("alice", login.Profile.Subject);
        Assert.Equal("alice@example.com", login.Profile.Email);
        Assert.Equal($"{root}/avatar/alice", login.Profile.AvatarUrl);
        Assert.Equal(clock.GetUtcNow().AddSeconds(120), login.Tokens.ExpiresAt);

        var refreshed = await ((IRefreshConnector)connector).RefreshAsync(login.Tokens, CancellationToken.None);
        Assert.NotEqual(login.Tokens.RefreshToken, refreshed.RefreshToken);
        Assert.NotEqual(login.Tokens.AccessToken, refreshed.AccessToken);

        // Reusing the spent refresh token is refused and ends the whole family (RFC 6749 §10.4).
        var reuse = await Assert.ThrowsAsync<ConnectorException>(() => ((IRefreshConnector)connector).RefreshAsync(login.Tokens, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, reuse.Kind);
        var afterReuse = await Assert.ThrowsAsync<ConnectorException>(() => ((IRefreshConnector)connector).RefreshAsync(refreshed, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, afterReuse.Kind);
    }

    [Fact]
    public async Task Revocation_makes_introspection_inactive_and_userinfo_refuse_the_token()
    {
        var login = await LoginAsync("bob");
        var introspect = (IIntrospectConnector)connector;
        Assert.True((await introspect.IntrospectAsync(login.Tokens.AccessToken, "access_token", CancellationToken.None))!.Active);

        Assert.True(await ((IRevokeConnector)connector).RevokeAsync(login.Tokens, CancellationToken.None));

        Assert.False((await introspect.IntrospectAsync(login.Tokens.AccessToken, "access_token", CancellationToken.None))!.Active);
        Assert.False((await introspect.IntrospectAsync(login.Tokens.RefreshToken!, "refresh_token", CancellationToken.None))!.Active);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{root}/userinfo");
        request.Headers.Authorization = new("Bearer", login.Tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Access_tokens_expire_after_their_lifetime()
    {
        var login = await LoginAsync("carol");
        clock.Advance(TimeSpan.FromSeconds(121));

        var state = await ((IIntrospectConnector)connector).IntrospectAsync(login.Tokens.AccessToken, null, CancellationToken.None);

        Assert.False(state!.Active);
        var refreshed = await ((IRefreshConnector)connector).RefreshAsync(login.Tokens, CancellationToken.None);
        Assert.True((await ((IIntrospectConnector)connector).IntrospectAsync(refreshed.AccessToken, null, CancellationToken.None))!.Active);
    }

    [Fact]
    public async Task A_code_is_single_use_and_bound_to_the_pkce_verifier()
    {
        var (input, pending) = NewLogin();
        var code = await SubmitFormAsync(input, "dave");

        var wrongVerifier = await Assert.ThrowsAsync<ConnectorException>(() =>
            connector.CompleteAsync(new CallbackInput(code), pending with { CodeVerifier = Pkce.CreateVerifier() }, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, wrongVerifier.Kind);

        var code2 = await SubmitFormAsync(input, "dave");
        await connector.CompleteAsync(new CallbackInput(code2), pending, CancellationToken.None);
        var replay = await Assert.ThrowsAsync<ConnectorException>(() => connector.CompleteAsync(new CallbackInput(code2), pending, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.InvalidGrant, replay.Kind);
    }

    [Fact]
    public async Task The_form_encodes_request_values_and_refuses_bad_usernames()
    {
        var (input, _) = NewLogin();
        var hostile = input with { State = "\"><script>alert(1)</script>" };
        var url = (await connector.BuildAuthorizeRequestAsync(hostile, CancellationToken.None)).Url;

        var page = await browser.GetStringAsync(url);
        Assert.DoesNotContain("<script>", page);
        Assert.Contains("&quot;&gt;&lt;script&gt;", page);

        using var bad = await PostFormAsync(HiddenFields(page), "Bad User<b>");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.DoesNotContain("<b>", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Deny_sends_access_denied_back_with_the_state()
    {
        var (input, pending) = NewLogin();
        var page = await browser.GetStringAsync((await connector.BuildAuthorizeRequestAsync(input, CancellationToken.None)).Url);
        var fields = HiddenFields(page);
        fields["action"] = "deny";

        using var response = await PostFormAsync(fields, "erin");

        var query = QueryHelpers.ParseQuery(response.Headers.Location!.Query);
        Assert.Equal("access_denied", query["error"]);
        Assert.Equal(input.State, query["state"]);
        var error = await Assert.ThrowsAsync<ConnectorException>(() =>
            connector.CompleteAsync(new CallbackInput(null, query["error"], query["error_description"]), pending, CancellationToken.None));
        Assert.Equal(ConnectorErrorKind.AccessDenied, error.Kind);
    }

    [Fact]
    public async Task Token_endpoint_answers_rfc_6749_errors()
    {
        using var noClient = await browser.PostAsync($"{root}/token", new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", "x")]));
        using var badCode = await browser.PostAsync($"{root}/token", new FormUrlEncodedContent([new("grant_type", "authorization_code"), new("code", "forged"), new("client_id", "c")]));
        using var badGrant = await browser.PostAsync($"{root}/token", new FormUrlEncodedContent([new("grant_type", "password"), new("client_id", "c")]));

        Assert.Equal(HttpStatusCode.Unauthorized, noClient.StatusCode);
        Assert.Equal("invalid_grant", JsonNode.Parse(await badCode.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
        Assert.Equal("unsupported_grant_type", JsonNode.Parse(await badGrant.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
        Assert.Equal("no-store", badCode.Headers.CacheControl?.ToString());
    }

    private async Task<LoginResult> LoginAsync(string username)
    {
        var (input, pending) = NewLogin();
        var code = await SubmitFormAsync(input, username);
        return await connector.CompleteAsync(new CallbackInput(code), pending, CancellationToken.None);
    }

    /// <summary>Opens the authorize URL, submits the form it shows, and returns the code from the redirect.</summary>
    private async Task<string> SubmitFormAsync(AuthorizeInput input, string username)
    {
        var page = await browser.GetStringAsync((await connector.BuildAuthorizeRequestAsync(input, CancellationToken.None)).Url);
        using var response = await PostFormAsync(HiddenFields(page), username);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(RedirectUri, location.AbsoluteUri);
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal(input.State, query["state"]);
        return query["code"].ToString();
    }

    private Task<HttpResponseMessage> PostFormAsync(Dictionary<string, string> fields, string username)
    {
        fields["username"] = username;
        fields.TryAdd("action", "approve");
        return browser.PostAsync($"{root}/authorize", new FormUrlEncodedContent(fields));
    }

    private static Dictionary<string, string> HiddenFields(string html) =>
        HiddenInput().Matches(html).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));

    private static (AuthorizeInput Input, PendingLoginData Pending) NewLogin()
    {
        var verifier = Pkce.CreateVerifier();
        var state = Pkce.CreateVerifier();
        return (new AuthorizeInput(RedirectUri, state, "unused-nonce", Pkce.ComputeChallenge(verifier)), new PendingLoginData(RedirectUri, verifier, "unused-nonce"));
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([a-z_]+)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenInput();
}

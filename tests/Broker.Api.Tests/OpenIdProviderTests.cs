using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;
using Broker.Grains.Connectors;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Broker.Api.Tests;

/// <summary>
/// Each tenant an OpenID Provider (docs/design.md §6 "OpenID Provider"), through the real pipeline with the dev IdP
/// upstream: discovery and keys, the code flow with PKCE, every token checked claim by claim against the specs,
/// refresh rotation and reuse, tokens that die with their broker session, and the error paths of RFC 6749 and OIDC Core.
/// </summary>
public sealed class OpenIdProviderTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private const string RedirectUri = "https://app.example/signin-oidc";
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task Discovery_names_the_issuer_exactly_and_the_jwks_holds_an_rs256_key()
    {
        var tenant = await api.CreateTenantAsync();
        var issuer = $"http://localhost/t/{tenant.Id}";

        var discovery = await TestApi.ReadJsonAsync(await api.GetAsync($"/t/{tenant.Id}/.well-known/openid-configuration"));

        Assert.Equal(issuer, discovery["issuer"]!.GetValue<string>());
        foreach (var (member, path) in new[] { ("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"), ("userinfo_endpoint", "/userinfo"),
            ("jwks_uri", "/jwks"), ("revocation_endpoint", "/revoke"), ("introspection_endpoint", "/introspect"), ("end_session_endpoint", "/end_session") })
            Assert.Equal(issuer + path, discovery[member]!.GetValue<string>());
        Assert.Equal("""["code"]""", discovery["response_types_supported"]!.ToJsonString());
        Assert.Equal("""["S256"]""", discovery["code_challenge_methods_supported"]!.ToJsonString());
        Assert.Equal("""["RS256"]""", discovery["id_token_signing_alg_values_supported"]!.ToJsonString());
        Assert.Equal("""["authorization_code","refresh_token"]""", discovery["grant_types_supported"]!.ToJsonString());
        var jwks = await TestApi.ReadJsonAsync(await api.GetAsync($"/t/{tenant.Id}/jwks"));
        var key = Assert.Single(jwks["keys"]!.AsArray())!;
        Assert.Equal(("RSA", "sig", "RS256"), (key["kty"]!.GetValue<string>(), key["use"]!.GetValue<string>(), key["alg"]!.GetValue<string>()));
        Assert.Null(key["d"]);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/t/{TestApi.NewId()}/.well-known/openid-configuration")).StatusCode);
    }

    [Fact]
    public async Task The_code_flow_gives_tokens_whose_every_claim_is_what_the_specs_say()
    {
        var (tenant, secret) = await TenantWithClientAsync(offlineAccess: true);
        var verifier = Pkce.CreateVerifier();

        var (code, back) = await AuthorizeAsync(tenant, "portal", verifier, "alice", scope: "openid profile email offline_access");
        Assert.Equal(("st-1", $"http://localhost/t/{tenant.Id}"), (TestApi.Param(back, "state"), TestApi.Param(back, "iss")));
        var tokens = await TokenAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["code_verifier"] = verifier });

        Assert.Equal(("Bearer", 300, "openid profile email offline_access"),
            (tokens["token_type"]!.GetValue<string>(), tokens["expires_in"]!.GetValue<int>(), tokens["scope"]!.GetValue<string>()));
        var id = await ValidateAsync(tenant, tokens["id_token"]!.GetValue<string>(), "JWT");
        var access = await ValidateAsync(tenant, tokens["access_token"]!.GetValue<string>(), "at+jwt");
        var issuer = $"http://localhost/t/{tenant.Id}";
        Assert.Equal((issuer, "portal", "nonce-1", "alice", "alice@example.com", "dev"),
            (id.Issuer, id.Audiences.Single(), id.GetClaim("nonce").Value, id.GetClaim("name").Value, id.GetClaim("email").Value, id.GetClaim("connection").Value));
        Assert.StartsWith("usr_", id.Subject);
        Assert.InRange(id.ValidTo - id.IssuedAt, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        Assert.True(long.Parse(id.GetClaim("auth_time").Value) <= DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var accessToken = tokens["access_token"]!.GetValue<string>();
        var atHash = Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)).AsSpan(0, 16));
        Assert.Equal(atHash, id.GetClaim("at_hash").Value);
        Assert.Equal((issuer, "portal", id.Subject, "portal"), (access.Issuer, access.Audiences.Single(), access.Subject, access.GetClaim("client_id").Value));
        Assert.Equal(id.GetClaim("sid").Value, access.GetClaim("sid").Value);

        // sid lets the app's back end use the tenant REST API for the upstream session.
        var session = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{id.GetClaim("sid").Value}", tenant.ApiKey));
        Assert.Equal(("active", id.Subject), (session["status"]!.GetValue<string>(), session["user"]!["id"]!.GetValue<string>()));

        var userinfo = await UserinfoAsync(tenant, accessToken);
        Assert.Equal(HttpStatusCode.OK, userinfo.Status);
        Assert.Equal((id.Subject, "alice", "alice@example.com", "dev"), (userinfo.Body["sub"]!.GetValue<string>(), userinfo.Body["name"]!.GetValue<string>(),
            userinfo.Body["email"]!.GetValue<string>(), userinfo.Body["connection"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_refresh_token_rotates_and_a_reused_one_revokes_the_whole_grant()
    {
        var (tenant, secret) = await TenantWithClientAsync(offlineAccess: true);
        var tokens = await SignInAsync(tenant, secret, "bob");
        var first = tokens["refresh_token"]!.GetValue<string>();

        var refreshed = await TokenAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "refresh_token", ["refresh_token"] = first });
        var second = refreshed["refresh_token"]!.GetValue<string>();
        Assert.NotEqual(first, second);
        var id = await ValidateAsync(tenant, refreshed["id_token"]!.GetValue<string>(), "JWT");
        Assert.False(id.TryGetClaim("nonce", out _)); // a refresh is no authentication request

        // Introspection tells the current refresh token from one rotated away, and uses neither.
        Assert.False((await IntrospectAsync(tenant, secret, first))["active"]!.GetValue<bool>());
        Assert.True((await IntrospectAsync(tenant, secret, second))["active"]!.GetValue<bool>());

        var reuse = await TokenErrorAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "refresh_token", ["refresh_token"] = first });
        Assert.Equal("invalid_grant", reuse);
        Assert.Equal("invalid_grant", await TokenErrorAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "refresh_token", ["refresh_token"] = second }));
        Assert.Equal(HttpStatusCode.Unauthorized, (await UserinfoAsync(tenant, refreshed["access_token"]!.GetValue<string>())).Status);
    }

    [Fact]
    public async Task A_code_is_good_once_and_its_second_use_revokes_what_the_first_gave()
    {
        var (tenant, secret) = await TenantWithClientAsync(offlineAccess: true);
        var verifier = Pkce.CreateVerifier();
        var (code, _) = await AuthorizeAsync(tenant, "portal", verifier, "carol", scope: "openid offline_access");
        var form = new Dictionary<string, string> { ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["code_verifier"] = verifier };
        var tokens = await TokenAsync(tenant, Basic("portal", secret), form);

        Assert.Equal("invalid_grant", await TokenErrorAsync(tenant, Basic("portal", secret), form));

        Assert.Equal(HttpStatusCode.Unauthorized, (await UserinfoAsync(tenant, tokens["access_token"]!.GetValue<string>())).Status);
        Assert.Equal("invalid_grant", await TokenErrorAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>() }));
    }

    [Fact]
    public async Task The_apps_tokens_die_with_the_broker_session_they_came_from()
    {
        var (tenant, secret) = await TenantWithClientAsync(offlineAccess: true);
        var tokens = await SignInAsync(tenant, secret, "dora");
        var access = tokens["access_token"]!.GetValue<string>();
        var sid = (await ValidateAsync(tenant, access, "at+jwt")).GetClaim("sid").Value;
        Assert.True((await IntrospectAsync(tenant, secret, access))["active"]!.GetValue<bool>());

        // The user is blocked: the broker session ends (revoked), and everything the app holds with it.
        var user = (await ValidateAsync(tenant, access, "at+jwt")).Subject;
        (await api.SendAsync(HttpMethod.Patch, $"/api/tenants/{tenant.Id}/users/{user}", tenant.ApiKey, new { blocked = true })).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Unauthorized, (await UserinfoAsync(tenant, access)).Status);
        Assert.False((await IntrospectAsync(tenant, secret, access))["active"]!.GetValue<bool>());
        Assert.Equal("invalid_grant", await TokenErrorAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>() }));
        var session = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{sid}", tenant.ApiKey));
        Assert.Equal(("ended", "revoked"), (session["status"]!.GetValue<string>(), session["endReason"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Deleting_the_user_kills_the_apps_tokens_and_the_next_sign_in_is_a_new_subject()
    {
        var (tenant, secret) = await TenantWithClientAsync(offlineAccess: true);
        var tokens = await SignInAsync(tenant, secret, "ivy");
        var access = tokens["access_token"]!.GetValue<string>();
        var user = (await ValidateAsync(tenant, access, "at+jwt")).Subject;

        (await api.SendAsync(HttpMethod.Delete, $"/api/tenants/{tenant.Id}/users/{user}", tenant.ApiKey)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Unauthorized, (await UserinfoAsync(tenant, access)).Status);
        Assert.Equal("invalid_grant", await TokenErrorAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>() }));
        var again = await SignInAsync(tenant, secret, "ivy");
        Assert.NotEqual(user, (await ValidateAsync(tenant, again["access_token"]!.GetValue<string>(), "at+jwt")).Subject);
    }

    [Fact]
    public async Task A_public_client_signs_in_with_pkce_alone_and_gets_no_refresh_token_without_offline_access()
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/spa", tenant.ApiKey,
            new { redirectUris = new[] { RedirectUri }, tokenEndpointAuthMethod = "none" })).EnsureSuccessStatusCode();
        var verifier = Pkce.CreateVerifier();

        var (_, withoutPkce) = await AuthorizeRawAsync(tenant, "spa", verifier: null);
        Assert.Equal("invalid_request", TestApi.Param(withoutPkce!, "error"));

        var (code, _) = await AuthorizeAsync(tenant, "spa", verifier, "erin", scope: "openid offline_access");
        var tokens = await TokenAsync(tenant, null, new() { ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["code_verifier"] = verifier, ["client_id"] = "spa" });
        Assert.Null(tokens["refresh_token"]);
        Assert.Equal("openid", tokens["scope"]!.GetValue<string>());
    }

    [Fact]
    public async Task Authorize_errors_are_a_page_for_an_unknown_client_or_redirect_uri_and_otherwise_go_back_with_state_and_iss()
    {
        var (tenant, _) = await TenantWithClientAsync(offlineAccess: false);
        var good = new Dictionary<string, string?>
        {
            ["client_id"] = "portal", ["redirect_uri"] = RedirectUri, ["response_type"] = "code", ["scope"] = "openid", ["state"] = "s",
            ["code_challenge"] = Pkce.ComputeChallenge(Pkce.CreateVerifier()), ["code_challenge_method"] = "S256",
        };
        async Task<HttpResponseMessage> Authorize(Action<Dictionary<string, string?>> change)
        {
            var query = new Dictionary<string, string?>(good);
            change(query);
            return await api.GetAsync(QueryHelpers.AddQueryString($"/t/{tenant.Id}/authorize", query.Where(q => q.Value is not null)));
        }

        await TestApi.AssertErrorPageAsync(await Authorize(q => q["client_id"] = "nobody"), HttpStatusCode.BadRequest);
        await TestApi.AssertErrorPageAsync(await Authorize(q => q["redirect_uri"] = "https://evil.example/cb"), HttpStatusCode.BadRequest);
        await TestApi.AssertErrorPageAsync(await Authorize(q => q["redirect_uri"] = RedirectUri + "/"), HttpStatusCode.BadRequest);
        await TestApi.AssertErrorPageAsync(await Authorize(q => q["redirect_uri"] = null), HttpStatusCode.BadRequest);
        foreach (var (change, error) in new (Action<Dictionary<string, string?>>, string)[]
        {
            (q => q["scope"] = "profile", "invalid_scope"),
            (q => q["scope"] = "openid admin", "invalid_scope"),
            (q => q["response_type"] = "token", "unsupported_response_type"),
            (q => q["code_challenge_method"] = "plain", "invalid_request"),
            (q => q["prompt"] = "none", "login_required"),
            (q => q["connection"] = "elsewhere", "invalid_request"),
            (q => q["response_mode"] = "form_post", "invalid_request"),
        })
        {
            using var response = await Authorize(change);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            var location = response.Headers.Location!;
            Assert.StartsWith(RedirectUri + "?", location.ToString());
            Assert.Equal((error, "s", $"http://localhost/t/{tenant.Id}"), (TestApi.Param(location, "error"), TestApi.Param(location, "state"), TestApi.Param(location, "iss")));
            Assert.False(string.IsNullOrEmpty(TestApi.Param(location, "error_description")));
        }
    }

    [Fact]
    public async Task Token_errors_follow_rfc_6749_and_issue_nothing()
    {
        var (tenant, secret) = await TenantWithClientAsync(offlineAccess: false);
        (await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/other", tenant.ApiKey, new { redirectUris = new[] { RedirectUri } })).EnsureSuccessStatusCode();
        var verifier = Pkce.CreateVerifier();
        var (code, _) = await AuthorizeAsync(tenant, "portal", verifier, "fay");
        Dictionary<string, string> Form(string? redirect = RedirectUri, string? v = null) => new()
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = redirect!, ["code_verifier"] = v ?? verifier,
        };

        using (var wrongSecret = await PostTokenAsync(tenant, Basic("portal", secret + "x"), Form()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.StatusCode);
            Assert.Contains("Basic", wrongSecret.Headers.WwwAuthenticate.ToString());
            Assert.Equal("invalid_client", (await TestApi.ReadJsonAsync(wrongSecret))["error"]!.GetValue<string>());
        }
        var post = new Dictionary<string, string>(Form()) { ["client_id"] = "portal", ["client_secret"] = secret };
        Assert.Equal("invalid_client", await TokenErrorAsync(tenant, null, post)); // registered for client_secret_basic
        Assert.Equal("invalid_grant", await TokenErrorAsync(tenant, Basic("portal", secret), Form(v: Pkce.CreateVerifier())));
        Assert.Equal("invalid_grant", await TokenErrorAsync(tenant, Basic("portal", secret), Form(redirect: "https://app.example/other")));
        Assert.Equal("unsupported_grant_type", await TokenErrorAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "password", ["username"] = "x" }));
        // None of those used the code up; another client cannot use it either.
        var otherSecret = (await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Post, $"/api/tenants/{tenant.Id}/clients/other/secret", tenant.ApiKey)))["clientSecret"]!.GetValue<string>();
        Assert.Equal("invalid_grant", await TokenErrorAsync(tenant, Basic("other", otherSecret), Form()));
        var tokens = await TokenAsync(tenant, Basic("portal", secret), Form());
        Assert.Null(tokens["refresh_token"]); // the client has no offline access
    }

    [Fact]
    public async Task End_session_with_an_id_token_hint_ends_the_broker_session_and_comes_back_with_state_and_without_one_ends_nothing()
    {
        var (tenant, secret) = await TenantWithClientAsync(offlineAccess: true);
        var tokens = await SignInAsync(tenant, secret, "gina");
        var idToken = tokens["id_token"]!.GetValue<string>();
        var sid = (await ValidateAsync(tenant, idToken, "JWT")).GetClaim("sid").Value;

        await TestApi.AssertErrorPageAsync(await api.GetAsync($"/t/{tenant.Id}/end_session?post_logout_redirect_uri={Uri.EscapeDataString("https://app.example/bye")}"), HttpStatusCode.BadRequest);
        await TestApi.AssertErrorPageAsync(await api.GetAsync($"/t/{tenant.Id}/end_session?id_token_hint={idToken}&post_logout_redirect_uri={Uri.EscapeDataString("https://evil.example/")}"), HttpStatusCode.BadRequest);
        Assert.Equal("active", (await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{sid}", tenant.ApiKey)))["status"]!.GetValue<string>());

        using var ended = await api.GetAsync($"/t/{tenant.Id}/end_session?id_token_hint={idToken}&post_logout_redirect_uri={Uri.EscapeDataString("https://app.example/bye")}&state=bye-1");

        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        Assert.Contains("bye-1", Uri.UnescapeDataString(ended.Headers.Location!.ToString()));
        var session = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant.Id}/sessions/{sid}", tenant.ApiKey));
        Assert.Equal(("ended", "logout"), (session["status"]!.GetValue<string>(), session["endReason"]!.GetValue<string>()));
        Assert.Equal("invalid_grant", await TokenErrorAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "refresh_token", ["refresh_token"] = tokens["refresh_token"]!.GetValue<string>() }));
    }

    [Fact]
    public async Task Introspection_and_revocation_answer_a_client_for_its_own_tokens_only()
    {
        var (tenant, secret) = await TenantWithClientAsync(offlineAccess: true);
        var put = await TestApi.ReadJsonAsync(await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/other", tenant.ApiKey, new { redirectUris = new[] { RedirectUri } }));
        var otherSecret = put["clientSecret"]!.GetValue<string>();
        var tokens = await SignInAsync(tenant, secret, "hana");
        var access = tokens["access_token"]!.GetValue<string>();

        var mine = await IntrospectAsync(tenant, secret, access);
        Assert.Equal((true, "portal"), (mine["active"]!.GetValue<bool>(), mine["client_id"]!.GetValue<string>()));
        Assert.False((await IntrospectAsync(tenant, otherSecret, access, "other"))["active"]!.GetValue<bool>());
        Assert.False((await IntrospectAsync(tenant, secret, "not-a-token"))["active"]!.GetValue<bool>());

        // Another client's revocation does nothing; the owner's revokes the grant.
        (await PostAsync(tenant, "/revoke", Basic("other", otherSecret), new() { ["token"] = tokens["refresh_token"]!.GetValue<string>() })).EnsureSuccessStatusCode();
        Assert.True((await IntrospectAsync(tenant, secret, access))["active"]!.GetValue<bool>());
        (await PostAsync(tenant, "/revoke", Basic("portal", secret), new() { ["token"] = tokens["refresh_token"]!.GetValue<string>() })).EnsureSuccessStatusCode();
        Assert.False((await IntrospectAsync(tenant, secret, access))["active"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await UserinfoAsync(tenant, access)).Status);
    }

    private async Task<(TestTenant Tenant, string Secret)> TenantWithClientAsync(bool offlineAccess)
    {
        var tenant = await api.CreateTenantAsync();
        await api.PutDevConnectionAsync(tenant);
        using var put = await api.SendAsync(HttpMethod.Put, $"/api/tenants/{tenant.Id}/clients/portal", tenant.ApiKey, new
        {
            redirectUris = new[] { RedirectUri }, postLogoutRedirectUris = new[] { "https://app.example/bye" }, offlineAccess,
        });
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        return (tenant, (await TestApi.ReadJsonAsync(put))["clientSecret"]!.GetValue<string>());
    }

    private async Task<JsonObject> SignInAsync(TestTenant tenant, string secret, string username)
    {
        var verifier = Pkce.CreateVerifier();
        var (code, _) = await AuthorizeAsync(tenant, "portal", verifier, username, scope: "openid profile email offline_access");
        return await TokenAsync(tenant, Basic("portal", secret), new() { ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["code_verifier"] = verifier });
    }

    /// <summary>/authorize -> the dev IdP -> the broker's callback -> the app's redirect URI with the code.</summary>
    private async Task<(string Code, Uri Back)> AuthorizeAsync(TestTenant tenant, string clientId, string verifier, string username, string scope = "openid profile email")
    {
        var (toProvider, _) = await AuthorizeRawAsync(tenant, clientId, verifier, scope);
        var callback = await api.ApproveAtDevIdpAsync(toProvider!, username);
        using var toApp = await api.GetAsync(callback.PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, toApp.StatusCode);
        var back = toApp.Headers.Location!;
        Assert.StartsWith(RedirectUri + "?", back.ToString());
        return (TestApi.Param(back, "code")!, back);
    }

    /// <summary>The upstream authorize URL, or (for an error) the redirect back to the app.</summary>
    private async Task<(Uri? ToProvider, Uri? ToApp)> AuthorizeRawAsync(TestTenant tenant, string clientId, string? verifier, string scope = "openid")
    {
        var query = new Dictionary<string, string?>
        {
            ["client_id"] = clientId, ["redirect_uri"] = RedirectUri, ["response_type"] = "code", ["scope"] = scope, ["state"] = "st-1", ["nonce"] = "nonce-1",
        };
        if (verifier is not null)
        {
            query["code_challenge"] = Pkce.ComputeChallenge(verifier);
            query["code_challenge_method"] = "S256";
        }
        using var response = await api.GetAsync(QueryHelpers.AddQueryString($"/t/{tenant.Id}/authorize", query));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        var location = response.Headers.Location!;
        return location.AbsoluteUri.StartsWith(RedirectUri, StringComparison.Ordinal) ? (null, location) : (location, null);
    }

    private static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));

    private Task<HttpResponseMessage> PostAsync(TestTenant tenant, string path, AuthenticationHeaderValue? auth, Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/t/{tenant.Id}{path}") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = auth;
        return api.Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> PostTokenAsync(TestTenant tenant, AuthenticationHeaderValue? auth, Dictionary<string, string> form) => PostAsync(tenant, "/token", auth, form);

    private async Task<JsonObject> TokenAsync(TestTenant tenant, AuthenticationHeaderValue? auth, Dictionary<string, string> form)
    {
        using var response = await PostTokenAsync(tenant, auth, form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return JsonNode.Parse(body)!.AsObject();
    }

    private async Task<string> TokenErrorAsync(TestTenant tenant, AuthenticationHeaderValue? auth, Dictionary<string, string> form)
    {
        using var response = await PostTokenAsync(tenant, auth, form);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{(int)response.StatusCode}");
        var body = await TestApi.ReadJsonAsync(response);
        Assert.Null(body["access_token"]);
        return body["error"]!.GetValue<string>();
    }

    private async Task<(HttpStatusCode Status, JsonObject Body)> UserinfoAsync(TestTenant tenant, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/t/{tenant.Id}/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await api.Http.SendAsync(request);
        return (response.StatusCode, await TestApi.ReadJsonAsync(response));
    }

    private async Task<JsonObject> IntrospectAsync(TestTenant tenant, string secret, string token, string clientId = "portal")
    {
        using var response = await PostAsync(tenant, "/introspect", Basic(clientId, secret), new() { ["token"] = token });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await TestApi.ReadJsonAsync(response);
    }

    /// <summary>Checks a token as a relying party would: signature by a key of the tenant's JWKS, issuer, lifetime, type.</summary>
    private async Task<JsonWebToken> ValidateAsync(TestTenant tenant, string token, string type)
    {
        var jwks = await api.Http.GetStringAsync($"/t/{tenant.Id}/jwks");
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = $"http://localhost/t/{tenant.Id}",
            ValidAudience = "portal",
            ValidAudiences = ["portal", "spa"],
            IssuerSigningKeys = new JsonWebKeySet(jwks).GetSigningKeys(),
            ValidTypes = [type],
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        return (JsonWebToken)result.SecurityToken;
    }

    public void Dispose() => api.Dispose();
}

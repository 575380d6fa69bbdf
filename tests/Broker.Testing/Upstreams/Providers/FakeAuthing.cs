using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Broker.Testing.Upstreams.Providers;

/// <summary>
/// An Authing app host as PROVIDERS.md §4 records it, for both protocols: <c>/{oidc|oauth}/auth</c>,
/// <c>/token</c>, <c>/me</c>, <c>/token/revocation</c>, <c>/token/introspection</c>; OIDC adds
/// <c>/oidc/session/end</c> and <c>/oidc/.well-known/jwks.json</c> (issuer <c>{root}/oidc</c>,
/// id_token RS256 or HS256 with the app secret); the OAuth protocol's logout is
/// <c>/login/profile/logout</c>. Client authentication: client_secret_post, client_secret_basic
/// (id:secret not form-encoded) or none with PKCE; each endpoint can be told which one it demands.
/// Endpoints: <c>token</c>, <c>me</c>, <c>revocation</c>, <c>introspection</c>.
/// </summary>
public sealed class FakeAuthing : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (string RedirectUri, string? Nonce, string? Challenge, string Protocol)> codes = new();
    private readonly ConcurrentDictionary<string, bool> accessTokens = new(); // token -> revoked
    private readonly ConcurrentDictionary<string, bool> refreshTokens = new(); // token -> used or revoked

    private FakeAuthing(TimeProvider clock) => Clock = clock;

    /// <summary>The server.</summary>
    public FakeUpstream Upstream { get; private set; } = null!;

    /// <summary>The clock for iat/exp.</summary>
    public TimeProvider Clock { get; }

    /// <summary>The RSA key behind the JWKS.</summary>
    public FakeSigningKeys Keys { get; } = new();

    /// <summary>The app id.</summary>
    public string ClientId { get; set; } = "61a0authingapp";

    /// <summary>The app secret.</summary>
    public string ClientSecret { get; set; } = "9f3c0e2d1b4a59687c6d5e4f3a2b1c0d";

    /// <summary>RS256 (Authing's key, the JWKS) or HS256 (the app secret): a per-app setting (AD).</summary>
    public string IdTokenAlgorithm { get; set; } = "RS256";

    /// <summary>The method each endpoint demands (<c>token</c>, <c>revocation</c>, <c>introspection</c>); absent means any.</summary>
    public Dictionary<string, string> RequiredAuthMethod { get; } = [];

    /// <summary>The <c>expires_in</c> of access tokens issued from now on.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromSeconds(3600);

    /// <summary>The method each endpoint saw last.</summary>
    public ConcurrentDictionary<string, string> SeenAuthMethod { get; } = new();

    /// <summary>Starts the fake.</summary>
    public static async Task<FakeAuthing> StartAsync(TimeProvider clock)
    {
        var fake = new FakeAuthing(clock);
        fake.Upstream = await FakeUpstream.StartAsync(app =>
        {
            foreach (var p in new[] { "oidc", "oauth" })
            {
                app.MapGet($"/{p}/auth", (HttpRequest r) => fake.Authorize(r.Query, p));
                app.MapPost($"/{p}/token", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "token") ?? fake.Token(r, p));
                app.MapMethods($"/{p}/me", ["GET", "POST"], async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "me") ?? fake.Me(r));
                app.MapPost($"/{p}/token/revocation", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "revocation") ?? fake.Revoke(r));
                app.MapPost($"/{p}/token/introspection", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "introspection") ?? fake.Introspect(r));
            }

            app.MapGet("/oidc/.well-known/jwks.json", () => Results.Json(fake.Keys.ToJwks()));
            app.MapGet("/oidc/session/end", () => Results.Text("signed out"));
            app.MapGet("/login/profile/logout", () => Results.Text("signed out"));
            app.MapGet("/api/v3/get-profile", (HttpRequest r) => fake.Me(r));
        });
        return fake;
    }

    /// <summary>Whether an access token is active.</summary>
    public bool IsActive(string token) => accessTokens.TryGetValue(token, out var revoked) && !revoked;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Upstream.DisposeAsync();
        Keys.Dispose();
    }

    private IResult Authorize(IQueryCollection query, string protocol)
    {
        if (query["client_id"] != ClientId || query["response_type"] != "code")
        {
            return Results.BadRequest("bad authorize request");
        }

        var code = FakeUpstream.NewToken();
        codes[code] = (query["redirect_uri"]!, query["nonce"], query["code_challenge"], protocol);
        return FakeUpstream.RedirectWithCode(query, code);
    }

    // Which method the client used, or null when its credentials are wrong.
    private string? Authenticate(HttpRequest request, string endpoint)
    {
        var form = request.Form;
        string? method = FakeUpstream.Basic(request) is { } basic
            ? basic.Id == ClientId && basic.Secret == ClientSecret ? "client_secret_basic" : null
            : form.ContainsKey("client_secret")
                ? form["client_id"] == ClientId && form["client_secret"] == ClientSecret ? "client_secret_post" : null
                : form["client_id"] == ClientId ? "none" : null;
        if (method is null || (RequiredAuthMethod.TryGetValue(endpoint, out var required) && required != method))
        {
            return null;
        }

        SeenAuthMethod[endpoint] = method;
        return method;
    }

    private IResult Token(HttpRequest request, string protocol)
    {
        if (Authenticate(request, "token") is not { } method)
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: 401);
        }

        var form = request.Form;
        switch (form["grant_type"].ToString())
        {
            case "authorization_code":
                if (!codes.TryRemove(form["code"].ToString(), out var grant) || grant.RedirectUri != form["redirect_uri"] || grant.Protocol != protocol
                    || !FakeUpstream.PkceMatches(grant.Challenge, form["code_verifier"]) || (method == "none" && grant.Challenge is null))
                {
                    return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
                }

                return Issue(protocol, grant.Nonce, idToken: protocol == "oidc");
            case "refresh_token":
                var presented = form["refresh_token"].ToString();
                if (!refreshTokens.TryGetValue(presented, out var spent) || spent)
                {
                    return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
                }

                refreshTokens[presented] = true;
                return Issue(protocol, nonce: null, idToken: false);
            default:
                return Results.Json(new { error = "unsupported_grant_type" }, statusCode: 400);
        }
    }

    private IResult Issue(string protocol, string? nonce, bool idToken)
    {
        var access = FakeUpstream.NewToken();
        var refresh = FakeUpstream.NewToken();
        accessTokens[access] = false;
        refreshTokens[refresh] = false;
        var body = new JsonObject { ["access_token"] = access, ["expires_in"] = (int)AccessTokenLifetime.TotalSeconds, ["refresh_token"] = refresh, ["scope"] = "openid profile offline_access", ["token_type"] = "Bearer" };
        if (idToken)
        {
            var now = Clock.GetUtcNow().ToUnixTimeSeconds();
            var claims = new JsonObject { ["iss"] = Upstream.BaseUrl + "/oidc", ["sub"] = "6177authinguser", ["aud"] = ClientId, ["iat"] = now, ["exp"] = now + 3600, ["name"] = "Ada" };
            if (nonce is not null)
            {
                claims["nonce"] = nonce;
            }

            body["id_token"] = IdTokenAlgorithm == "HS256" ? FakeJwt.Hs256(claims, Encoding.UTF8.GetBytes(ClientSecret)) : Keys.Sign(claims);
        }

        return Results.Json(body);
    }

    private IResult Me(HttpRequest request) =>
        FakeUpstream.Bearer(request) is { } token && IsActive(token)
            ? Results.Json(new { sub = "6177authinguser", name = "Ada", nickname = "ada", email = "ada@example.com", picture = "https://files.authing.co/ada.png" })
            : Results.Json(new { error = "invalid_token" }, statusCode: 401);

    private IResult Revoke(HttpRequest request)
    {
        if (Authenticate(request, "revocation") is null)
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: 401);
        }

        var token = request.Form["token"].ToString();
        if (accessTokens.ContainsKey(token))
        {
            accessTokens[token] = true;
        }
        else if (refreshTokens.ContainsKey(token))
        {
            refreshTokens[token] = true;
        }

        return Results.Ok(); // RFC 7009 §2.2
    }

    private IResult Introspect(HttpRequest request) =>
        Authenticate(request, "introspection") is null
            ? Results.Json(new { error = "invalid_client" }, statusCode: 401)
            : IsActive(request.Form["token"].ToString())
                ? Results.Json(new { active = true, sub = "6177authinguser", client_id = ClientId, exp = Clock.GetUtcNow().AddHours(1).ToUnixTimeSeconds() })
                : Results.Json(new { active = false });
}

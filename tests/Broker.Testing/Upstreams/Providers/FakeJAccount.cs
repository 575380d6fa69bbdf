using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Broker.Testing.Upstreams.Providers;

/// <summary>
/// SJTU jAccount as PROVIDERS.md §1 records it: <c>/oauth2/authorize</c>, <c>/oauth2/token</c>
/// (client credentials in the form body), an HS256 id_token keyed with the UTF-8 client secret and
/// issued by <c>{root}/oauth2/</c> (trailing slash), <c>/oauth2/logout</c>, and the REST API
/// <c>/v1/me/profile</c> with its <c>errno</c> envelope: 403 + errno 10002 without a valid token,
/// HTTP 200 + errno 10007 for an expired one. Endpoints: <c>token</c>, <c>profile</c>.
/// </summary>
public sealed class FakeJAccount : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (string RedirectUri, string? Nonce, string? Challenge)> codes = new();
    private readonly ConcurrentDictionary<string, bool> accessTokens = new(); // token -> expired
    private readonly ConcurrentDictionary<string, bool> refreshTokens = new();

    private FakeJAccount(TimeProvider clock) => Clock = clock;

    /// <summary>The server.</summary>
    public FakeUpstream Upstream { get; private set; } = null!;

    /// <summary>The clock for iat/exp.</summary>
    public TimeProvider Clock { get; }

    /// <summary>The client this fake knows.</summary>
    public string ClientId { get; set; } = "jaccount-client";

    /// <summary>Its secret, also the id_token's HMAC key.</summary>
    public string ClientSecret { get; set; } = "jaccount-secret-Ω";

    /// <summary>The issuer, <c>{root}/oauth2/</c>.</summary>
    public string Issuer => Upstream.BaseUrl + "/oauth2/";

    /// <summary>Changes the id_token's claims before it is signed.</summary>
    public Action<JsonObject>? TweakClaims { get; set; }

    /// <summary>Signs id_tokens with this key instead of the client secret (a forgery).</summary>
    public string? SigningKeyOverride { get; set; }

    /// <summary>The <c>expires_in</c> of access tokens issued from now on (jAccount's is 7200 s).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromSeconds(7200);

    /// <summary>Starts the fake.</summary>
    public static async Task<FakeJAccount> StartAsync(TimeProvider clock)
    {
        var fake = new FakeJAccount(clock);
        fake.Upstream = await FakeUpstream.StartAsync(app =>
        {
            app.MapGet("/oauth2/authorize", (HttpRequest r) => fake.Authorize(r.Query));
            app.MapPost("/oauth2/token", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "token") ?? fake.Token(r.Form));
            app.MapGet("/oauth2/logout", () => Results.Text("signed out of jAccount"));
            app.MapGet("/v1/me/profile", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "profile") ?? fake.Profile(r));
        });
        return fake;
    }

    /// <summary>Makes every access token issued so far expired, as jAccount reports it (errno 10007).</summary>
    public void ExpireAccessTokens()
    {
        foreach (var token in accessTokens.Keys)
        {
            accessTokens[token] = true;
        }
    }

    /// <summary>Signs claims the way jAccount does: HS256 with the UTF-8 client secret (SI).</summary>
    public string SignHs256(JsonObject claims, string key)
    {
        var header = Base64Url.Encode("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = Base64Url.Encode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.ASCII.GetBytes($"{header}.{payload}"));
        return $"{header}.{payload}.{Base64Url.Encode(mac)}";
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Upstream.DisposeAsync();

    private IResult Authorize(IQueryCollection query)
    {
        if (query["client_id"] != ClientId || query["response_type"] != "code" || string.IsNullOrEmpty(query["redirect_uri"]))
        {
            return Results.BadRequest("bad authorize request");
        }

        var code = FakeUpstream.NewToken();
        codes[code] = (query["redirect_uri"]!, query["nonce"], query["code_challenge"]);
        return FakeUpstream.RedirectWithCode(query, code);
    }

    private IResult Token(IFormCollection form)
    {
        if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: 401);
        }

        switch (form["grant_type"].ToString())
        {
            case "authorization_code":
                if (!codes.TryRemove(form["code"].ToString(), out var grant) || grant.RedirectUri != form["redirect_uri"]
                    || !FakeUpstream.PkceMatches(grant.Challenge, form["code_verifier"]))
                {
                    return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
                }

                return Issue(grant.Nonce, includeRefresh: true);
            case "refresh_token" when refreshTokens.ContainsKey(form["refresh_token"].ToString()):
                // Refresh keeps the refresh token (none is sent back); the id_token has no nonce.
                return Issue(nonce: null, includeRefresh: false);
            case "refresh_token":
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            default:
                return Results.Json(new { error = "unsupported_grant_type" }, statusCode: 400);
        }
    }

    private IResult Issue(string? nonce, bool includeRefresh)
    {
        var now = Clock.GetUtcNow().ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["iss"] = Issuer, ["sub"] = "zhangsan", ["aud"] = ClientId, ["iat"] = now, ["exp"] = now + 3600,
            ["name"] = "张三", ["code"] = "518030910001", ["type"] = "student",
        };
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }

        TweakClaims?.Invoke(claims);
        var access = FakeUpstream.NewToken();
        accessTokens[access] = false;
        var body = new JsonObject
        {
            ["access_token"] = access, ["token_type"] = "Bearer", ["expires_in"] = (int)AccessTokenLifetime.TotalSeconds,
            ["id_token"] = SignHs256(claims, SigningKeyOverride ?? ClientSecret),
        };
        if (includeRefresh)
        {
            var refresh = FakeUpstream.NewToken();
            refreshTokens[refresh] = true;
            body["refresh_token"] = refresh;
        }

        return Results.Json(body);
    }

    private IResult Profile(HttpRequest request)
    {
        var token = FakeUpstream.Bearer(request) ?? request.Query["access_token"].ToString();
        if (!accessTokens.TryGetValue(token, out var expired))
        {
            return Results.Json(new { errno = 10002, error = "Authentication Failed.", total = 0 }, statusCode: 403);
        }

        return expired
            ? Results.Json(new { errno = 10007, error = "token expired", total = 0 })
            : Results.Json(new JsonObject
            {
                ["errno"] = 0, ["error"] = "success", ["total"] = 1,
                ["entities"] = new JsonArray(new JsonObject { ["id"] = "5f0c-guid", ["account"] = "zhangsan", ["name"] = "张三", ["code"] = "518030910001", ["userType"] = "student" }),
            });
    }
}

/// <summary>Small glue for the fakes' route handlers.</summary>
internal static class FakeRouteExtensions
{
    /// <summary>The queued failure for the endpoint, or null to answer normally.</summary>
    public static Task<IResult?> Let(this HttpContext context, FakeUpstream upstream, string endpoint) => upstream.FailureAsync(context, endpoint);
}

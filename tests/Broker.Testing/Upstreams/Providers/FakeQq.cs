using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Broker.Testing.Upstreams.Providers;

/// <summary>The body shapes QQ answers with (PROVIDERS.md §3), all served as text/html.</summary>
public enum QqShape
{
    /// <summary><c>{"access_token":..,"expires_in":"7776000",..}</c>, expires_in as a string.</summary>
    Json,
    /// <summary><c>access_token=..&amp;expires_in=..&amp;refresh_token=..</c>.</summary>
    Form,
    /// <summary><c>callback( {...} );</c>.</summary>
    Jsonp,
}

/// <summary>
/// Tencent QQ Connect as PROVIDERS.md §3 records it: <c>/oauth2.0/authorize</c>; the token endpoint
/// is a GET with <c>client_secret</c> in the query; <c>/oauth2.0/me</c> answers JSONP unless
/// <c>fmt=json</c>, adds <c>unionid</c> with <c>unionid=1</c> (error 100048 unless approved);
/// <c>/user/get_user_info</c> needs <c>oauth_consumer_key</c>, <c>access_token</c>, <c>openid</c>
/// and reports failures as <c>ret</c>/<c>msg</c>; refresh tokens are single use. Every body is
/// text/html. Endpoints: <c>token</c>, <c>me</c>, <c>userinfo</c>.
/// </summary>
public sealed class FakeQq : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, string> codes = new();
    private readonly ConcurrentDictionary<string, bool> accessTokens = new(); // token -> expired
    private readonly ConcurrentDictionary<string, bool> refreshTokens = new(); // token -> used
    private readonly ConcurrentQueue<string> issuedRefreshTokens = new();
    private readonly ConcurrentQueue<string> reusedRefreshTokens = new();

    /// <summary>The server.</summary>
    public FakeUpstream Upstream { get; private set; } = null!;

    /// <summary>The app id.</summary>
    public string ClientId { get; set; } = "101234567";

    /// <summary>The app key, sent in the token request's query.</summary>
    public string ClientSecret { get; set; } = "qq-app-key-5ecret";

    /// <summary>The user's openid for this app.</summary>
    public string OpenId { get; set; } = "B08D412EEC4000FFC37CAABBDC1234CC";

    /// <summary>How the token endpoint shapes its success answer (errors are always JSONP, as ymate#2 saw).</summary>
    public QqShape TokenShape { get; set; } = QqShape.Json;

    /// <summary>Answer <c>/me</c> as JSONP even when <c>fmt=json</c> is sent.</summary>
    public bool MeAlwaysJsonp { get; set; }

    /// <summary>Whether the app may ask for unionid (else error 100048).</summary>
    public bool UnionIdApproved { get; set; } = true;

    /// <summary>Echo the request's query in error descriptions (a careless server), to test that the secret is scrubbed.</summary>
    public bool EchoQueryInErrors { get; set; }

    /// <summary>The <c>expires_in</c> of access tokens issued from now on (QQ's is 7776000 s, 90 days).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromSeconds(7776000);

    /// <summary>Every refresh token issued, in order.</summary>
    public IReadOnlyList<string> IssuedRefreshTokens => issuedRefreshTokens.ToArray();

    /// <summary>Refresh tokens presented again after they were spent (refused with 100015).</summary>
    public IReadOnlyList<string> ReusedRefreshTokens => reusedRefreshTokens.ToArray();

    /// <summary>Starts the fake.</summary>
    public static async Task<FakeQq> StartAsync()
    {
        var fake = new FakeQq();
        fake.Upstream = await FakeUpstream.StartAsync(app =>
        {
            app.MapGet("/oauth2.0/authorize", (HttpRequest r) => fake.Authorize(r.Query));
            app.MapGet("/oauth2.0/token", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "token") ?? fake.Token(r));
            app.MapGet("/oauth2.0/me", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "me") ?? fake.Me(r.Query));
            app.MapGet("/user/get_user_info", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "userinfo") ?? fake.UserInfo(r.Query));
        });
        return fake;
    }

    /// <summary>Makes every access token issued so far expired.</summary>
    public void ExpireAccessTokens()
    {
        foreach (var token in accessTokens.Keys)
        {
            accessTokens[token] = true;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Upstream.DisposeAsync();

    private static string Jsonp(JsonObject body) => $"callback( {body.ToJsonString()} );\n";

    private IResult Authorize(IQueryCollection query)
    {
        if (query["client_id"] != ClientId || query["response_type"] != "code" || string.IsNullOrEmpty(query["state"]))
        {
            return Results.BadRequest("bad authorize request");
        }

        var code = FakeUpstream.NewToken();
        codes[code] = query["redirect_uri"]!;
        return FakeUpstream.RedirectWithCode(query, code);
    }

    private IResult Token(HttpRequest request)
    {
        var query = request.Query;
        if (query["client_id"] != ClientId || query["client_secret"] != ClientSecret)
        {
            return Error(100009, "client secret is illegal", request);
        }

        switch (query["grant_type"].ToString())
        {
            case "authorization_code":
                if (!codes.TryRemove(query["code"].ToString(), out var redirect))
                {
                    return Error(100019, "code to access token error", request);
                }

                return redirect == query["redirect_uri"] ? Issue() : Error(100010, "redirect uri is illegal", request);
            case "refresh_token":
                var presented = query["refresh_token"].ToString();
                if (!refreshTokens.TryGetValue(presented, out var used) || used)
                {
                    if (used)
                    {
                        reusedRefreshTokens.Enqueue(presented);
                    }

                    return Error(100015, "access token is revoked", request);
                }

                refreshTokens[presented] = true; // single use (QN)
                return Issue();
            default:
                return Error(100004, "grant_type is illegal", request);
        }
    }

    private IResult Issue()
    {
        var access = FakeUpstream.NewToken();
        var refresh = FakeUpstream.NewToken();
        accessTokens[access] = false;
        refreshTokens[refresh] = false;
        issuedRefreshTokens.Enqueue(refresh);
        var expiresIn = ((long)AccessTokenLifetime.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var json = new JsonObject { ["access_token"] = access, ["expires_in"] = expiresIn, ["refresh_token"] = refresh };
        return FakeUpstream.Html(TokenShape switch
        {
            QqShape.Form => $"access_token={access}&expires_in={expiresIn}&refresh_token={refresh}",
            QqShape.Jsonp => Jsonp(json),
            _ => json.ToJsonString(),
        });
    }

    private IResult Me(IQueryCollection query)
    {
        JsonObject body;
        if (!accessTokens.TryGetValue(query["access_token"].ToString(), out var expired) || expired)
        {
            body = new JsonObject { ["error"] = 100016, ["error_description"] = "access token check failed" };
        }
        else if (query["unionid"] == "1" && !UnionIdApproved)
        {
            body = new JsonObject { ["error"] = 100048, ["error_description"] = "unionid not allowed" };
        }
        else
        {
            body = new JsonObject { ["client_id"] = ClientId, ["openid"] = OpenId };
            if (query["unionid"] == "1")
            {
                body["unionid"] = "UID_" + OpenId;
            }
        }

        return FakeUpstream.Html(query["fmt"] == "json" && !MeAlwaysJsonp ? body.ToJsonString() : Jsonp(body));
    }

    private IResult UserInfo(IQueryCollection query)
    {
        if (query["oauth_consumer_key"] != ClientId || query["openid"] != OpenId)
        {
            return FakeUpstream.Html("""{"ret":-1,"msg":"client request's app is not existed"}""");
        }

        if (!accessTokens.TryGetValue(query["access_token"].ToString(), out var expired))
        {
            return FakeUpstream.Html("""{"ret":1002,"msg":"请先登录"}""");
        }

        return FakeUpstream.Html(expired
            ? """{"ret":100014,"msg":"access token expired"}"""
            : """
              {"ret":0,"msg":"","is_lost":0,"nickname":"Peter","gender":"男","gender_type":1,"province":"","city":"","year":"1990",
               "figureurl":"http://qzapp.qlogo.cn/qzapp/1/30","figureurl_1":"http://qzapp.qlogo.cn/qzapp/1/50","figureurl_2":"http://qzapp.qlogo.cn/qzapp/1/100",
               "figureurl_qq_1":"http://thirdqq.qlogo.cn/g?s=40","figureurl_qq_2":"http://thirdqq.qlogo.cn/g?s=100","is_yellow_vip":"0","yellow_vip_level":"0"}
              """);
    }

    private IResult Error(int code, string description, HttpRequest request) =>
        FakeUpstream.Html(Jsonp(new JsonObject
        {
            ["error"] = code,
            ["error_description"] = EchoQueryInErrors ? $"client_secret={request.Query["client_secret"]}: {description} ({request.QueryString.Value})" : description,
        }));
}

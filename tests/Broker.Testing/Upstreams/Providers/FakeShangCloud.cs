using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Broker.Testing.Upstreams.Providers;

/// <summary>
/// ShangCloud as PROVIDERS.md §2 records it, on one host: <c>/oauth/authorize</c>,
/// <c>/oauth/token</c> (the code exchange needs <c>Authorization: Basic base64(id:secret)</c>, not
/// form-encoded; refresh takes <c>client_id</c> in the body and Basic when the client is
/// confidential), <c>POST /api/user/info</c> and <c>POST /api/varibles</c> (sic) with
/// <c>{key, action, value}</c> answering <c>{value}</c> or <c>{error}</c>. The API checks
/// <c>Authorization: {token_type} {access_token}</c>. Endpoints: <c>token</c>, <c>userinfo</c>.
/// </summary>
public sealed class FakeShangCloud : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (string RedirectUri, string Scope)> codes = new();
    private readonly ConcurrentDictionary<string, string> accessTokens = new(); // token -> scope
    private readonly ConcurrentDictionary<string, (string Scope, bool Used)> refreshTokens = new();
    private readonly ConcurrentDictionary<string, string> variables = new();

    /// <summary>The server.</summary>
    public FakeUpstream Upstream { get; private set; } = null!;

    /// <summary>The client this fake knows.</summary>
    public string ClientId { get; set; } = "sc-client";

    /// <summary>Its secret; change it to play a rotation.</summary>
    public string ClientSecret { get; set; } = "sc+secret/with=base64";

    /// <summary>The <c>expires_in</c> of access tokens issued from now on.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromSeconds(3600);

    /// <summary>Starts the fake.</summary>
    public static async Task<FakeShangCloud> StartAsync()
    {
        var fake = new FakeShangCloud();
        fake.Upstream = await FakeUpstream.StartAsync(app =>
        {
            app.MapGet("/oauth/authorize", (HttpRequest r) => fake.Authorize(r.Query));
            app.MapPost("/oauth/token", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "token") ?? fake.Token(r));
            app.MapPost("/api/user/info", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "userinfo") ?? fake.WithToken(r, _ => Results.Json(new JsonObject
            {
                ["uid"] = 10086, ["nickname"] = "小尚", ["mail"] = "xs@example.com", ["avatar"] = "https://cdn.example/a.png",
            })));
            app.MapPost("/api/varibles", async (HttpRequest r) =>
            {
                var body = await r.ReadFromJsonAsync<JsonObject>();
                return fake.WithToken(r, scope => fake.Variables(scope, body));
            });
        });
        return fake;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Upstream.DisposeAsync();

    private IResult Authorize(IQueryCollection query) =>
        query["client_id"] != ClientId || query["response_type"] != "code"
            ? Results.BadRequest("bad authorize request")
            : FakeUpstream.RedirectWithCode(query, Remember(query));

    private string Remember(IQueryCollection query)
    {
        var code = FakeUpstream.NewToken();
        codes[code] = (query["redirect_uri"]!, query["scope"].ToString());
        return code;
    }

    private IResult Token(HttpRequest request)
    {
        var form = request.Form;
        var basic = FakeUpstream.Basic(request);
        var basicOk = basic is { } b && b.Id == ClientId && b.Secret == ClientSecret;
        switch (form["grant_type"].ToString())
        {
            case "authorization_code":
                if (!basicOk)
                {
                    return Results.Json(new { error = "invalid_client" }, statusCode: 401);
                }

                return codes.TryRemove(form["code"].ToString(), out var grant) && grant.RedirectUri == form["redirect_uri"]
                    ? Issue(grant.Scope)
                    : Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            case "refresh_token":
                // The Unity/Godot SDKs' form; a confidential client's Basic must then be right too.
                if (form["client_id"] != ClientId || (basic is not null && !basicOk))
                {
                    return Results.Json(new { error = "invalid_client" }, statusCode: 401);
                }

                var presented = form["refresh_token"].ToString();
                if (!refreshTokens.TryGetValue(presented, out var refresh) || refresh.Used)
                {
                    return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
                }

                refreshTokens[presented] = refresh with { Used = true };
                return Issue(refresh.Scope);
            default:
                return Results.Json(new { error = "unsupported_grant_type" }, statusCode: 400);
        }
    }

    private IResult Issue(string scope)
    {
        var access = FakeUpstream.NewToken();
        var refresh = FakeUpstream.NewToken();
        accessTokens[access] = scope;
        refreshTokens[refresh] = (scope, false);
        return Results.Json(new { access_token = access, refresh_token = refresh, token_type = "Bearer", expires_in = (int)AccessTokenLifetime.TotalSeconds });
    }

    private IResult WithToken(HttpRequest request, Func<string, IResult> answer)
    {
        var header = request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header[7..] : null;
        return token is not null && accessTokens.TryGetValue(token, out var scope)
            ? answer(scope)
            : Results.Json(new { error = "invalid token" }, statusCode: 401);
    }

    private IResult Variables(string scope, JsonObject? body)
    {
        if (!scope.Split(' ').Contains("var:io"))
        {
            return Results.Json(new { error = "scope var:io required" }, statusCode: 403);
        }

        var key = body?["key"]?.GetValue<string>() ?? "";
        switch (body?["action"]?.GetValue<string>())
        {
            case "write":
                variables[key] = body["value"]?.GetValue<string>() ?? "";
                return Results.Json(new { value = variables[key] });
            case "read":
                return variables.TryGetValue(key, out var value) ? Results.Json(new { value }) : Results.Json(new { value = "", error = "no such variable" });
            default:
                return Results.Json(new { value = "", error = "bad action" });
        }
    }
}

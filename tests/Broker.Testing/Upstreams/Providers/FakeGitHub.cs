using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Broker.Testing.Upstreams.Providers;

/// <summary>
/// GitHub (laid out like GitHub Enterprise Server: <c>/login/oauth/*</c> and the API at
/// <c>/api/v3/</c>) as PROVIDERS.md §5 records it: the token endpoint answers a form unless asked
/// for JSON, and reports errors with HTTP 200 (<c>bad_verification_code</c>,
/// <c>bad_refresh_token</c>, <c>incorrect_client_credentials</c>); classic tokens have no expiry and
/// no refresh token, expiring ones rotate both tokens at each refresh. The API refuses requests
/// without a User-Agent (403), has <c>/user</c> (email null when private), <c>/user/emails</c>,
/// and <c>DELETE /applications/{client_id}/token</c>. Endpoints: <c>token</c>, <c>user</c>.
/// </summary>
public sealed class FakeGitHub : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (string? RedirectUri, string? Challenge)> codes = new();
    private readonly ConcurrentDictionary<string, bool> accessTokens = new(); // token -> revoked
    private readonly ConcurrentDictionary<string, bool> refreshTokens = new(); // token -> used

    /// <summary>The server.</summary>
    public FakeUpstream Upstream { get; private set; } = null!;

    /// <summary>The OAuth app's client id.</summary>
    public string ClientId { get; set; } = "Iv1.8a61f9b3a7aba766";

    /// <summary>Its secret.</summary>
    public string ClientSecret { get; set; } = "gh-secret";

    /// <summary>Issue expiring user tokens with rotating refresh tokens (else classic tokens).</summary>
    public bool ExpiringTokens { get; set; }

    /// <summary>The <c>expires_in</c> of expiring access tokens issued from now on (GitHub's is 28800 s).</summary>
    public TimeSpan ExpiringAccessTokenLifetime { get; set; } = TimeSpan.FromSeconds(28800);

    /// <summary>The public e-mail on the profile; null when private.</summary>
    public string? PublicEmail { get; set; }

    /// <summary>Starts the fake.</summary>
    public static async Task<FakeGitHub> StartAsync()
    {
        var fake = new FakeGitHub();
        fake.Upstream = await FakeUpstream.StartAsync(app =>
        {
            app.MapGet("/login/oauth/authorize", (HttpRequest r) => fake.Authorize(r.Query));
            app.MapPost("/login/oauth/access_token", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "token") ?? fake.Token(r));
            app.MapGet("/api/v3/user", async (HttpRequest r) => await r.HttpContext.Let(fake.Upstream, "user") ?? fake.Api(r, () => Results.Json(new JsonObject
            {
                ["login"] = "octocat", ["id"] = 583231, ["name"] = "The Octocat", ["email"] = fake.PublicEmail, ["avatar_url"] = "https://avatars.githubusercontent.com/u/583231",
            })));
            app.MapGet("/api/v3/user/emails", (HttpRequest r) => fake.Api(r, () => Results.Json(new JsonArray(
                new JsonObject { ["email"] = "old@example.com", ["primary"] = false, ["verified"] = true, ["visibility"] = null },
                new JsonObject { ["email"] = "octocat@example.com", ["primary"] = true, ["verified"] = true, ["visibility"] = "private" }))));
            // Five repositories, paginated as GitHub does: Link (next/last), ETag with If-None-Match -> 304,
            // and the rate-limit headers.
            app.MapGet("/api/v3/user/repos", (HttpRequest r) => fake.Api(r, () => fake.Repos(r)));
            app.MapDelete("/api/v3/applications/{clientId}/token", async (HttpRequest r, string clientId) => await fake.DeleteTokenAsync(r, clientId));
        });
        return fake;
    }

    /// <summary>Whether an access token still works.</summary>
    public bool IsActive(string token) => accessTokens.TryGetValue(token, out var revoked) && !revoked;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Upstream.DisposeAsync();

    private IResult Authorize(IQueryCollection query)
    {
        if (query["client_id"] != ClientId)
        {
            return Results.BadRequest("bad authorize request");
        }

        var code = FakeUpstream.NewToken();
        codes[code] = (query["redirect_uri"], query["code_challenge"]);
        return FakeUpstream.RedirectWithCode(query, code);
    }

    private IResult Token(HttpRequest request)
    {
        var form = request.Form;
        var json = request.Headers.Accept.ToString().Contains("application/json", StringComparison.Ordinal);
        if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
        {
            return Answer(json, new JsonObject { ["error"] = "incorrect_client_credentials", ["error_description"] = "The client_id and/or client_secret passed are incorrect." });
        }

        if (form["grant_type"] == "refresh_token")
        {
            var presented = form["refresh_token"].ToString();
            if (!refreshTokens.TryGetValue(presented, out var used) || used)
            {
                return Answer(json, new JsonObject { ["error"] = "bad_refresh_token", ["error_description"] = "The refresh token passed is incorrect or expired." });
            }

            refreshTokens[presented] = true;
            return Answer(json, Issue());
        }

        if (!codes.TryRemove(form["code"].ToString(), out var grant) || (grant.RedirectUri is not null && grant.RedirectUri != form["redirect_uri"])
            || !FakeUpstream.PkceMatches(grant.Challenge, form["code_verifier"]))
        {
            // HTTP 200 with an error body: GitHub's legacy behaviour (golang/oauth2#274).
            return Answer(json, new JsonObject { ["error"] = "bad_verification_code", ["error_description"] = "The code passed is incorrect or expired.", ["error_uri"] = "https://docs.github.com/apps/troubleshooting" });
        }

        return Answer(json, Issue());
    }

    private JsonObject Issue()
    {
        var access = FakeUpstream.NewToken(ExpiringTokens ? "ghu_" : "gho_");
        accessTokens[access] = false;
        var body = new JsonObject { ["access_token"] = access, ["token_type"] = "bearer", ["scope"] = "read:user,user:email" };
        if (ExpiringTokens)
        {
            var refresh = FakeUpstream.NewToken("ghr_");
            refreshTokens[refresh] = false;
            // The 2020 changelog sample sends both lifetimes as strings.
            body["expires_in"] = ((long)ExpiringAccessTokenLifetime.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            body["refresh_token"] = refresh;
            body["refresh_token_expires_in"] = "15811200";
        }

        return body;
    }

    private static IResult Answer(bool json, JsonObject body) => json
        ? Results.Json(body)
        : Results.Text(string.Join('&', body.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value?.ToString() ?? "")}")), "application/x-www-form-urlencoded");

    private IResult Repos(HttpRequest request)
    {
        var perPage = int.TryParse(request.Query["per_page"], out var p) ? p : 30;
        var page = int.TryParse(request.Query["page"], out var n) ? n : 1;
        var last = (5 + perPage - 1) / perPage;
        var etag = $"\"repos-{page}-{perPage}\"";
        var headers = request.HttpContext.Response.Headers;
        headers["ETag"] = etag;
        headers["X-RateLimit-Limit"] = "5000";
        headers["X-RateLimit-Remaining"] = "4999";
        headers["X-RateLimit-Reset"] = "1796036400";
        var links = new List<string>();
        if (page < last)
            links.Add($"<{Upstream.BaseUrl}/api/v3/user/repos?per_page={perPage}&page={page + 1}>; rel=\"next\"");
        links.Add($"<{Upstream.BaseUrl}/api/v3/user/repos?per_page={perPage}&page={last}>; rel=\"last\"");
        headers["Link"] = string.Join(", ", links);
        if (request.Headers.IfNoneMatch == etag)
            return Results.StatusCode(304);
        var names = Enumerable.Range(1, 5).Skip((page - 1) * perPage).Take(perPage).Select(i => (JsonNode?)new JsonObject { ["name"] = $"repo-{i}" });
        return Results.Json(new JsonArray([.. names]));
    }

    private IResult Api(HttpRequest request, Func<IResult> answer)
    {
        if (string.IsNullOrEmpty(request.Headers.UserAgent))
        {
            return Results.Text("Request forbidden by administrative rules. Please make sure your request has a User-Agent header", statusCode: 403);
        }

        return FakeUpstream.Bearer(request) is { } token && IsActive(token)
            ? answer()
            : Results.Json(new { message = "Bad credentials" }, statusCode: 401);
    }

    private async Task<IResult> DeleteTokenAsync(HttpRequest request, string clientId)
    {
        if (FakeUpstream.Basic(request) is not { } basic || basic.Id != ClientId || basic.Secret != ClientSecret || clientId != ClientId)
        {
            return Results.Json(new { message = "Not Found" }, statusCode: 404);
        }

        var body = await request.ReadFromJsonAsync<JsonObject>();
        var token = body?["access_token"]?.GetValue<string>() ?? "";
        if (!accessTokens.ContainsKey(token))
        {
            return Results.Json(new { message = "Not Found" }, statusCode: 404);
        }

        accessTokens[token] = true;
        return Results.NoContent();
    }
}

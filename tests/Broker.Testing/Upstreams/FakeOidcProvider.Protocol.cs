using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Testing.Upstreams;

public sealed partial class FakeOidcProvider
{
    private readonly ConcurrentDictionary<string, CodeGrant> codes = new();
    private readonly ConcurrentDictionary<string, RefreshGrant> refreshTokens = new();

    /// <summary>Every refresh token this provider has issued, for tests that look for them where they must not be.</summary>
    public IReadOnlyCollection<string> IssuedRefreshTokens => refreshTokens.Keys.ToArray();
    private readonly ConcurrentDictionary<string, AccessGrant> accessTokens = new();

    /// <summary>
    /// Plays the browser at the authorize endpoint: GETs <paramref name="authorizeUrl"/> without
    /// following the redirect and returns the callback's query (<c>code</c>, <c>state</c>, or <c>error</c>).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> FollowAuthorizeAsync(Uri authorizeUrl)
    {
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var response = await client.GetAsync(authorizeUrl);
        var location = response.Headers.Location ?? throw new InvalidOperationException($"The authorize endpoint answered {(int)response.StatusCode}, not a redirect.");
        return QueryHelpers.ParseQuery(location.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    /// <summary>Whether a token this provider issued is still active (not revoked, not expired).</summary>
    public bool IsActive(string token) =>
        accessTokens.TryGetValue(token, out var access) ? !access.Revoked && access.ExpiresAt > Clock.GetUtcNow()
        : refreshTokens.TryGetValue(token, out var refresh) && !refresh.Revoked && !refresh.Used;

    private IResult Authorize(IQueryCollection query)
    {
        if (query["client_id"] != ClientId || !Uri.TryCreate(query["redirect_uri"], UriKind.Absolute, out _) || query["response_type"] != "code")
        {
            return Results.BadRequest("bad authorize request");
        }

        var code = NewToken();
        codes[code] = new CodeGrant(query["redirect_uri"]!, query["code_challenge"], query["code_challenge_method"], query["nonce"], query["scope"].ToString(), NextUser?.Invoke() ?? User);
        var parameters = new Dictionary<string, string?> { ["code"] = code, ["state"] = query["state"] };
        return Results.Redirect(QueryHelpers.AddQueryString(query["redirect_uri"]!, parameters));
    }

    private IResult Token(HttpRequest request)
    {
        if (AuthenticateClient(request) is { } problem)
        {
            return problem;
        }

        var form = request.Form;
        switch (form["grant_type"].ToString())
        {
            case "authorization_code":
                // Single use (RFC 6749 §4.1.2), same redirect_uri (§4.1.3), PKCE (RFC 7636 §4.6).
                if (!codes.TryRemove(form["code"].ToString(), out var grant) || grant.RedirectUri != form["redirect_uri"])
                {
                    return OAuthError("invalid_grant", "unknown code or redirect_uri mismatch");
                }

                if (grant.Challenge is not null && !PkceMatches(grant.Challenge, form["code_verifier"].ToString()))
                {
                    return OAuthError("invalid_grant", "PKCE verification failed");
                }

                return IssueTokens(grant.User, grant.Scope, grant.Nonce, includeRefresh: IssueRefreshTokens, includeIdToken: true, NewChain(), sequence: 0, presented: null);
            case "refresh_token":
                var presented = form["refresh_token"].ToString();
                if (!refreshTokens.TryGetValue(presented, out var refresh) || refresh.Revoked || refresh.Used)
                {
                    RecordRefusal(refresh, refresh is null ? "unknown" : refresh.Revoked ? "revoked" : "reused");
                    return OAuthError("invalid_grant", "refresh token unknown, revoked or reused");
                }

                // Spent atomically: of two requests presenting the same token at once, one wins.
                if (RotateRefreshTokens && !refreshTokens.TryUpdate(presented, refresh with { Used = true }, refresh))
                {
                    RecordRefusal(refresh, "reused");
                    return OAuthError("invalid_grant", "refresh token unknown, revoked or reused");
                }

                return IssueTokens(refresh.User, refresh.Scope, nonce: null, includeRefresh: RotateRefreshTokens, includeIdToken: IdTokenOnRefresh,
                    refresh.Chain, refresh.Sequence + 1, presented);
            default:
                return OAuthError("unsupported_grant_type", null);
        }
    }

    private IResult IssueTokens(FakeUser user, string scope, string? nonce, bool includeRefresh, bool includeIdToken,
        string? chain = null, int sequence = 0, string? presented = null)
    {
        var accessToken = NewToken();
        var issuedAt = Clock.GetUtcNow();
        accessTokens[accessToken] = new AccessGrant(user, issuedAt + AccessTokenLifetime, Revoked: false);
        string? newRefreshToken = null;
        var seconds = (long)AccessTokenLifetime.TotalSeconds;
        var body = new JsonObject
        {
            ["access_token"] = accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = ExpiresInAsString ? JsonValue.Create(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)) : JsonValue.Create(seconds),
            ["scope"] = scope,
        };
        if (includeRefresh)
        {
            var refreshToken = NewToken();
            refreshTokens[refreshToken] = new RefreshGrant(user, scope, Used: false, Revoked: false, chain ?? NewChain(), sequence);
            body["refresh_token"] = refreshToken;
            newRefreshToken = refreshToken;
        }

        RecordIssue(new TokenIssue(chain ?? "", sequence, presented is null ? "authorization_code" : "refresh_token", user,
            issuedAt, issuedAt + AccessTokenLifetime, presented, newRefreshToken));

        if (includeIdToken)
        {
            var claims = DefaultIdTokenClaims(nonce);
            if (!ReferenceEquals(user, User))
            {
                // A per-login user (NextUser): the id_token speaks for the same user as userinfo.
                claims["sub"] = user.Subject;
                claims["name"] = user.Name;
                claims["email"] = user.Email;
            }
            body["id_token"] = IdTokenOverride is { } forge ? forge(claims) : Keys.Sign(claims, IdTokenAlgorithm);
        }

        return Results.Json(body);
    }

    private IResult Userinfo(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal)
            || !accessTokens.TryGetValue(header["Bearer ".Length..], out var grant) || grant.Revoked || grant.ExpiresAt <= Clock.GetUtcNow())
        {
            return Results.Json(new { error = "invalid_token" }, statusCode: 401);
        }

        var body = new JsonObject
        {
            ["sub"] = grant.User.Subject,
            ["name"] = grant.User.Name,
            ["email"] = grant.User.Email,
            ["picture"] = grant.User.Picture,
        };
        foreach (var (name, value) in UserinfoExtra)
        {
            body[name] = value?.DeepClone();
        }

        return Results.Json(body);
    }

    private IResult Revoke(HttpRequest request)
    {
        if (AuthenticateClient(request) is { } problem)
        {
            return problem;
        }

        var token = request.Form["token"].ToString();
        if (accessTokens.TryGetValue(token, out var access))
        {
            accessTokens[token] = access with { Revoked = true };
        }
        else if (refreshTokens.TryGetValue(token, out var refresh))
        {
            refreshTokens[token] = refresh with { Revoked = true };
        }

        return Results.Ok(); // RFC 7009 §2.2: 200 also for unknown tokens
    }

    private IResult Introspect(HttpRequest request)
    {
        if (AuthenticateClient(request) is { } problem)
        {
            return problem;
        }

        var token = request.Form["token"].ToString();
        return IsActive(token) && accessTokens.TryGetValue(token, out var access)
            ? Results.Json(new { active = true, sub = access.User.Subject, exp = access.ExpiresAt.ToUnixTimeSeconds(), client_id = ClientId })
            : Results.Json(new { active = IsActive(token) });
    }

    // Accepts client_secret_basic (RFC 6749 §2.3.1, form-urlencoded inside Basic), client_secret_post and none.
    private IResult? AuthenticateClient(HttpRequest request)
    {
        string? id = request.Form["client_id"], secret = request.Form["client_secret"];
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]));
            var colon = pair.IndexOf(':');
            id = Uri.UnescapeDataString(pair[..colon].Replace('+', ' '));
            secret = Uri.UnescapeDataString(pair[(colon + 1)..].Replace('+', ' '));
        }

        var ok = id == ClientId && (string.IsNullOrEmpty(secret) || secret == ClientSecret);
        return ok ? null : Results.Json(new { error = "invalid_client" }, statusCode: 401);
    }

    private static bool PkceMatches(string challenge, string verifier) =>
        Pkce.IsValidVerifier(verifier) && Pkce.ComputeChallenge(verifier) == challenge;

    private static IResult OAuthError(string error, string? description) =>
        Results.Json(new { error, error_description = description }, statusCode: 400);

    private static string NewToken() => Base64Url.Encode(RandomNumberGenerator.GetBytes(24));

    private sealed record CodeGrant(string RedirectUri, string? Challenge, string? ChallengeMethod, string? Nonce, string Scope, FakeUser User);

    private sealed record RefreshGrant(FakeUser User, string Scope, bool Used, bool Revoked, string Chain = "", int Sequence = 0);

    private sealed record AccessGrant(FakeUser User, DateTimeOffset ExpiresAt, bool Revoked);
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Broker.Load.Upstream;

/// <summary>
/// A minimal OpenID Provider, as fast as it can be: discovery, JWKS, an authorize endpoint that answers
/// 302 at once (no login page), the token endpoint (authorization_code with PKCE S256 checked, and
/// refresh_token), userinfo and revocation. Codes and tokens are sealed, not stored, so a code is not
/// single use here (the broker's pending login already is); everything else a strict provider checks
/// for the broker's oidc connector is checked.
/// </summary>
public sealed class OidcEndpoints(string issuer, string clientSecret, SealedTokens sealer, IdTokens idTokens, int accessTokenSeconds)
{
    private const int Users = 10_000;
    private readonly RefreshLog _refreshLog = new();
    private long _userCounter;
    private long _authorized;
    private long _codesRedeemed;
    private long _refreshes;
    private long _repeatedRefreshes;
    private long _userinfo;
    private long _refused;

    public void Map(WebApplication app)
    {
        var discovery = new JsonObject
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = issuer + "/authorize",
            ["token_endpoint"] = issuer + "/token",
            ["userinfo_endpoint"] = issuer + "/userinfo",
            ["jwks_uri"] = issuer + "/jwks",
            ["revocation_endpoint"] = issuer + "/revoke",
            ["response_types_supported"] = new JsonArray("code"),
            ["grant_types_supported"] = new JsonArray("authorization_code", "refresh_token"),
            ["subject_types_supported"] = new JsonArray("public"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["code_challenge_methods_supported"] = new JsonArray("S256"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_basic", "client_secret_post"),
            ["scopes_supported"] = new JsonArray("openid", "profile", "email", "offline_access"),
        }.ToJsonString();
        app.MapGet("/.well-known/openid-configuration", () => Results.Text(discovery, "application/json"));
        app.MapGet("/jwks", () => Results.Text(idTokens.Jwks, "application/json"));
        app.MapGet("/authorize", Authorize);
        app.MapPost("/token", (Func<HttpContext, Task<IResult>>)TokenAsync);
        app.MapMethods("/userinfo", ["GET", "POST"], Userinfo);
        app.MapPost("/revoke", () => Results.Ok());
        app.MapGet("/_harness/stats", () => Results.Text(new JsonObject
        {
            ["authorized"] = Interlocked.Read(ref _authorized),
            ["codesRedeemed"] = Interlocked.Read(ref _codesRedeemed),
            ["refreshes"] = Interlocked.Read(ref _refreshes),
            ["userinfo"] = Interlocked.Read(ref _userinfo),
            ["refused"] = Interlocked.Read(ref _refused),
            ["seededRefreshes"] = _refreshLog.Summary(Interlocked.Read(ref _repeatedRefreshes)),
        }.ToJsonString(), "application/json"));
    }

    private IResult Authorize(HttpContext context)
    {
        var q = context.Request.Query;
        string? redirectUri = q["redirect_uri"], state = q["state"], clientId = q["client_id"];
        if (redirectUri is null || !Uri.TryCreate(redirectUri, UriKind.Absolute, out _))
            return Refuse(Results.BadRequest("invalid redirect_uri"));
        if (q["response_type"] != "code" || string.IsNullOrEmpty(clientId))
            return Refuse(Back(redirectUri, ("error", "invalid_request"), ("state", state)));
        string? challenge = q["code_challenge"];
        if (challenge is not null && q["code_challenge_method"] != "S256")
            return Refuse(Back(redirectUri, ("error", "invalid_request"), ("state", state)));
        var subject = q["login_hint"].ToString() is { Length: > 0 } hint ? hint : "user-" + (Interlocked.Increment(ref _userCounter) % Users);
        var code = sealer.Seal(new JsonObject
        {
            ["t"] = "code", ["cid"] = clientId, ["ru"] = redirectUri, ["cc"] = challenge, ["nonce"] = q["nonce"].ToString(),
            ["sub"] = subject, ["scope"] = q["scope"].ToString(), ["exp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60,
        });
        Interlocked.Increment(ref _authorized);
        return Back(redirectUri, ("code", code), ("state", state), ("iss", issuer));
    }

    private async Task<IResult> TokenAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        if (ClientId(context.Request, form) is not { } clientId)
            return Refuse(Results.Json(new { error = "invalid_client" }, statusCode: 401));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        switch (form["grant_type"].ToString())
        {
            case "authorization_code":
                var code = sealer.Unseal(form["code"]);
                if (code is null || (string?)code["t"] != "code" || (long)code["exp"]! < now || (string?)code["cid"] != clientId
                    || (string?)code["ru"] != form["redirect_uri"])
                    return InvalidGrant();
                // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal the challenge.
                if ((string?)code["cc"] is { } challenge
                    && SealedTokens.Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != challenge)
                    return InvalidGrant();
                Interlocked.Increment(ref _codesRedeemed);
                var scope = (string)code["scope"]!;
                return Tokens(clientId, (string)code["sub"]!, scope,
                    scope.Split(' ').Contains("openid") ? idTokens.Issue(issuer, clientId, (string)code["sub"]!, (string?)code["nonce"]) : null);
            case "refresh_token":
                var refresh = sealer.Unseal(form["refresh_token"]);
                if (refresh is null || (string?)refresh["t"] != "rt" || (string?)refresh["cid"] != clientId)
                    return InvalidGrant();
                Interlocked.Increment(ref _refreshes);
                // A seeded session's first refresh token carries its due time and the session's id.
                if (refresh["due"] is { } due && !_refreshLog.Record((string?)refresh["sid"] ?? "", (long)due))
                    Interlocked.Increment(ref _repeatedRefreshes);
                return Tokens(clientId, (string)refresh["sub"]!, (string?)refresh["scope"] ?? "", idToken: null);
            default:
                return Refuse(Results.Json(new { error = "unsupported_grant_type" }, statusCode: 400));
        }
    }

    private IResult Userinfo(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? sealer.Unseal(header[7..]) : null;
        if (token is null || (string?)token["t"] != "at" || (long)token["exp"]! < DateTimeOffset.UtcNow.ToUnixTimeSeconds())
            return Refuse(Results.Json(new { error = "invalid_token" }, statusCode: 401));
        Interlocked.Increment(ref _userinfo);
        var subject = (string)token["sub"]!;
        return Results.Json(new { sub = subject, name = "User " + subject, email = subject + "@example.test", email_verified = true });
    }

    private IResult Tokens(string clientId, string subject, string scope, string? idToken)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var nonce = SealedTokens.Base64Url(RandomNumberGenerator.GetBytes(6));
        var body = new JsonObject
        {
            ["access_token"] = sealer.Seal(new JsonObject { ["t"] = "at", ["sub"] = subject, ["cid"] = clientId, ["exp"] = now + accessTokenSeconds, ["n"] = nonce }),
            ["token_type"] = "Bearer",
            ["expires_in"] = accessTokenSeconds,
            ["refresh_token"] = sealer.Seal(new JsonObject { ["t"] = "rt", ["sub"] = subject, ["cid"] = clientId, ["scope"] = scope, ["n"] = nonce }),
            ["scope"] = scope,
        };
        if (idToken is not null)
            body["id_token"] = idToken;
        return Results.Text(body.ToJsonString(), "application/json");
    }

    /// <summary>The client id when the client authenticated with the configured secret (RFC 6749 §2.3.1), else null.</summary>
    private string? ClientId(HttpRequest request, IFormCollection form)
    {
        var header = request.Headers.Authorization.ToString();
        string? id, secret;
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':');
            if (colon < 0)
                return null;
            (id, secret) = (Uri.UnescapeDataString(decoded[..colon].Replace('+', ' ')), Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' ')));
        }
        else
        {
            (id, secret) = (form["client_id"], form["client_secret"]);
        }
        return id is { Length: > 0 } && secret == clientSecret ? id : null;
    }

    private IResult InvalidGrant() => Refuse(Results.Json(new { error = "invalid_grant" }, statusCode: 400));

    private IResult Refuse(IResult result)
    {
        Interlocked.Increment(ref _refused);
        return result;
    }

    private static IResult Back(string redirectUri, params (string Name, string? Value)[] parameters)
    {
        var target = new StringBuilder(redirectUri).Append(redirectUri.Contains('?') ? '&' : '?');
        foreach (var (name, value) in parameters.Where(p => p.Value is not null))
            target.Append(name).Append('=').Append(Uri.EscapeDataString(value!)).Append('&');
        return Results.Redirect(target.ToString(0, target.Length - 1));
    }
}

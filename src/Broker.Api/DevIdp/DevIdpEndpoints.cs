using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Broker.Api.DevIdp;

/// <summary>
/// The built-in development IdP: a small OAuth 2.0 server under <c>/dev-idp</c> (authorize,
/// token, userinfo, revoke, introspect) that the <c>dev</c> connection type signs in with.
/// </summary>
/// <remarks>
/// Deliberately simple, and therefore for demos and tests only: any <c>client_id</c> is
/// accepted and client secrets are not checked (the client id is still bound to the code and
/// tokens, so one client cannot redeem another's); any well-formed username signs in without a
/// password. It redirects only to the broker's own callback (<see cref="DevIdpOptions.BrokerBaseUrl"/>),
/// so it can never be made an open redirect. Codes and tokens are
/// DataProtection-protected values that every silo sharing the key ring can read, but
/// single use and revocation are remembered per process (see <see cref="DevIdpTokens"/>).
/// </remarks>
public static partial class DevIdpEndpoints
{
    /// <summary>Maps the dev IdP's routes under <c>/dev-idp</c>. Needs DataProtection registered; reads <see cref="DevIdpOptions"/> and <see cref="TimeProvider"/> from DI when present.</summary>
    public static IEndpointRouteBuilder MapDevIdp(this IEndpointRouteBuilder app)
    {
        var services = app.ServiceProvider;
        var options = services.GetService<IOptions<DevIdpOptions>>()?.Value ?? new DevIdpOptions();
        // Resolved at the first request, so mapping does not depend on registration order.
        var tokens = new Lazy<DevIdpTokens>(() => new DevIdpTokens(
            services.GetRequiredService<IDataProtectionProvider>(), services.GetService<TimeProvider>() ?? TimeProvider.System));

        var group = app.MapGroup("/dev-idp").ExcludeFromDescription();
        group.MapGet("/authorize", (HttpRequest request) => ShowLoginForm(ToDictionary(request.Query), request, options));
        group.MapPost("/authorize", (HttpRequest request) => SubmitLoginFormAsync(request, tokens.Value, options));
        group.MapPost("/token", (HttpRequest request) => DevIdpTokenEndpoint.HandleAsync(request, tokens.Value, options));
        group.MapMethods("/userinfo", ["GET", "POST"], (HttpRequest request) => Userinfo(request, tokens.Value));
        group.MapPost("/revoke", (HttpRequest request) => RevokeAsync(request, tokens.Value, options));
        group.MapPost("/introspect", (HttpRequest request) => IntrospectAsync(request, tokens.Value));
        group.MapGet("/avatar/{username}", (string username) =>
            UsernamePattern().IsMatch(username) ? DevIdpLoginPage.Avatar(username) : Results.NotFound());
        return app;
    }

    /// <summary>The usernames the dev IdP accepts; they become the subject.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    internal static partial Regex UsernamePattern();

    private static IResult ShowLoginForm(IReadOnlyDictionary<string, string?> request, HttpRequest http, DevIdpOptions options) =>
        CheckAuthorizeRequest(request, http, options) ?? DevIdpLoginPage.Render(request, username: null, error: null);

    private static async Task<IResult> SubmitLoginFormAsync(HttpRequest http, DevIdpTokens tokens, DevIdpOptions options)
    {
        if (await DevIdpTokenEndpoint.TryReadFormAsync(http) is not { } form)
        {
            return DevIdpLoginPage.Error("The sign-in form was not submitted as a readable form.");
        }

        var request = ToDictionary(form);
        if (CheckAuthorizeRequest(request, http, options) is { } problem)
        {
            return problem;
        }

        if (form["action"] == "deny")
        {
            return RedirectToClient(request, ("error", "access_denied"), ("error_description", "The user denied the request."));
        }

        var username = form["username"].ToString();
        if (!UsernamePattern().IsMatch(username))
        {
            return DevIdpLoginPage.Render(request, username, "A username is " + DevIdpLoginPage.UsernameHint, 400);
        }

        var now = tokens.Now;
        var id = DevIdpTokens.NewId();
        var code = tokens.Protect(DevIdpTokenKind.Code, new DevIdpGrant(
            id, id, username, request["client_id"]!, request.GetValueOrDefault("scope") ?? "profile email",
            request["redirect_uri"], request.GetValueOrDefault("code_challenge"), now, now + options.CodeLifetime));
        return RedirectToClient(request, ("code", code));
    }

    /// <summary>
    /// Checks an authorize request (RFC 6749 §4.1.1). Without a usable client_id or redirect_uri
    /// the user sees an error page and is not redirected (§4.1.2.1); other errors go back to the client.
    /// </summary>
    private static IResult? CheckAuthorizeRequest(IReadOnlyDictionary<string, string?> request, HttpRequest http, DevIdpOptions options)
    {
        if (string.IsNullOrEmpty(request.GetValueOrDefault("client_id")))
        {
            return DevIdpLoginPage.Error("The request has no client_id.");
        }

        if (!IsBrokerCallback(request.GetValueOrDefault("redirect_uri"), options.BrokerBaseUrl ?? new Uri($"{http.Scheme}://{http.Host}{http.PathBase}/")))
        {
            return DevIdpLoginPage.Error("The request's redirect_uri is not a callback of this broker ({base}t/{tenant}/callback).");
        }

        if (request.GetValueOrDefault("response_type") != "code")
        {
            return RedirectToClient(request, ("error", "unsupported_response_type"));
        }

        var challenge = request.GetValueOrDefault("code_challenge");
        var method = request.GetValueOrDefault("code_challenge_method");
        // Only S256: an omitted method would mean "plain" (RFC 7636 §4.3), which the dev IdP refuses.
        if ((challenge is not null || method is not null)
            && (method != "S256" || challenge is not { Length: 43 } || Broker.Grains.Connectors.Base64Url.TryDecode(challenge) is null))
        {
            return RedirectToClient(request, ("error", "invalid_request"), ("error_description", "PKCE needs code_challenge_method=S256 and a 43-character challenge."));
        }

        return null;
    }

    /// <summary>Exactly <c>{brokerBase}t/{tenant}/callback</c>: compared as text, so nothing a parser
    /// would normalise (case, dot segments, control characters) can make another URL pass.</summary>
    private static bool IsBrokerCallback(string? redirectUri, Uri brokerBase)
    {
        var prefix = brokerBase.AbsoluteUri.TrimEnd('/') + "/t/";
        const string suffix = "/callback";
        return redirectUri is not null
            && redirectUri.StartsWith(prefix, StringComparison.Ordinal) && redirectUri.EndsWith(suffix, StringComparison.Ordinal)
            && redirectUri.Length > prefix.Length + suffix.Length
            && Grains.Tenants.ResourceIds.IsWellFormed(redirectUri[prefix.Length..^suffix.Length]);
    }

    private static IResult RedirectToClient(IReadOnlyDictionary<string, string?> request, params (string Name, string Value)[] parameters)
    {
        var values = parameters.Select(p => new KeyValuePair<string, string?>(p.Name, p.Value)).ToList();
        if (request.GetValueOrDefault("state") is { } state)
        {
            values.Add(new("state", state));
        }

        return Results.Redirect(QueryHelpers.AddQueryString(request["redirect_uri"]!, values));
    }

    private static IResult Userinfo(HttpRequest request, DevIdpTokens tokens)
    {
        var header = request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        if (tokens.Read(DevIdpTokenKind.AccessToken, token) is not { } grant)
        {
            // RFC 6750 §3.1: an invalid, expired or revoked token gets 401 with invalid_token.
            request.HttpContext.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            return Results.Unauthorized();
        }

        var root = $"{request.Scheme}://{request.Host}{request.PathBase}/dev-idp";
        return Results.Json(new Dictionary<string, string>
        {
            ["sub"] = grant.Subject,
            ["name"] = grant.Subject,
            ["preferred_username"] = grant.Subject,
            ["email"] = $"{grant.Subject}@example.com",
            ["picture"] = $"{root}/avatar/{grant.Subject}",
        });
    }

    private static async Task<IResult> RevokeAsync(HttpRequest request, DevIdpTokens tokens, DevIdpOptions options)
    {
        var (form, clientId, problem) = await DevIdpTokenEndpoint.ReadClientRequestAsync(request);
        if (problem is not null)
        {
            return problem;
        }

        var token = form!["token"].ToString();
        if (token.Length == 0)
        {
            return DevIdpTokenEndpoint.Error("invalid_request", "token is required.");
        }

        // RFC 7009 §2.1: the hint is only a hint, so both kinds are tried. Revoking a refresh
        // token ends its whole family, access tokens included.
        if (tokens.Read(DevIdpTokenKind.RefreshToken, token) is { } refresh && refresh.ClientId == clientId)
        {
            tokens.RevokeFamily(refresh, options.RefreshTokenLifetime);
        }
        else if (tokens.Read(DevIdpTokenKind.AccessToken, token) is { } access && access.ClientId == clientId)
        {
            tokens.Revoke(access);
        }

        // RFC 7009 §2.2: 200 whether or not the token was valid, so nothing leaks about it.
        return Results.Ok();
    }

    private static async Task<IResult> IntrospectAsync(HttpRequest request, DevIdpTokens tokens)
    {
        var (form, _, problem) = await DevIdpTokenEndpoint.ReadClientRequestAsync(request);
        if (problem is not null)
        {
            return problem;
        }

        var token = form!["token"].ToString();
        var (grant, type) = tokens.Read(DevIdpTokenKind.AccessToken, token) is { } access
            ? (access, "access_token")
            : (tokens.Read(DevIdpTokenKind.RefreshToken, token), "refresh_token");
        // RFC 7662 §2.2: unknown, expired and revoked tokens are all just "active": false.
        return grant is null
            ? Results.Json(new { active = false })
            : Results.Json(new
            {
                active = true,
                sub = grant.Subject,
                username = grant.Subject,
                client_id = grant.ClientId,
                scope = grant.Scope,
                token_type = type == "access_token" ? "Bearer" : type,
                iat = grant.IssuedAt.ToUnixTimeSeconds(),
                exp = grant.ExpiresAt.ToUnixTimeSeconds(),
            });
    }

    private static Dictionary<string, string?> ToDictionary(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> values) =>
        DevIdpLoginPage.CarriedParameters.ToDictionary(
            name => name,
            name => values.FirstOrDefault(v => v.Key == name).Value is { Count: 1 } value && value[0] is { Length: > 0 } text ? text : null);
}

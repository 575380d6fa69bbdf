using Broker.Grains;
using Broker.Grains.Connectors;
using Broker.Grains.Logins;
using Broker.Grains.Provider;
using Broker.Grains.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Broker.Api.Provider;

/// <summary>
/// <c>GET /t/{tenant}/authorize</c> (OIDC Core §3.1.2, RFC 6749 §4.1.1): the code flow only, PKCE S256. An unknown
/// client or a redirect URI it did not register is an error page, never a redirect (RFC 6749 §4.1.2.1); every other
/// error goes back to the redirect URI with <c>state</c> and <c>iss</c> (RFC 9207). The user then signs in upstream
/// through the same pending login as <c>/t/{tenant}/login</c>, and the callback sends the app its code.
/// </summary>
public static class ProviderAuthorizeEndpoint
{
    private const int MaxValueLength = 1024;
    private static readonly string[] Single = ["client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
        "code_challenge", "code_challenge_method", "prompt", "login_hint", "max_age", "ui_locales", "connection"];

    public static IEndpointRouteBuilder MapProviderAuthorize(this IEndpointRouteBuilder group)
    {
        group.MapGet("/authorize", AuthorizeAsync).WithName("ProviderAuthorize");
        return group;
    }

    public static async Task<Results<RedirectHttpResult, ContentHttpResult>> AuthorizeAsync(
        string tenant, HttpContext http, IGrainFactory grains, BrokerGrainOptions options, RateLimits limits, ILoggerFactory logs)
    {
        using var permit = limits.Acquire(http, RateLimitedRoute.Authorize);
        var query = http.Request.Query;
        string? One(string name) => query[name] is { Count: 1 } value ? value[0] : null;
        if (!Ids.IsTenantOrConnection(tenant))
            return Page(http, StatusCodes.Status400BadRequest, "The sign-in request is malformed.");
        var tenantGrain = grains.Tenant(tenant);
        if (await tenantGrain.GetAsync() is not { } view)
            return Page(http, StatusCodes.Status404NotFound, "There is no such application.");
        if (query["client_id"].Count > 1 || query["redirect_uri"].Count > 1)
            return Page(http, StatusCodes.Status400BadRequest, "The sign-in request names its application more than once.");
        var clientId = One("client_id");
        if (clientId is null || !Ids.IsTenantOrConnection(clientId) || await tenantGrain.GetClientAsync(clientId) is not { } registered)
            return Page(http, StatusCodes.Status400BadRequest, "The sign-in request comes from an application this service does not know.");
        var client = registered.Client;
        var redirectUri = One("redirect_uri");
        if (redirectUri is null || !client.RedirectUris.Contains(redirectUri, StringComparer.Ordinal))
            return Page(http, StatusCodes.Status400BadRequest, "The sign-in request asks to return to an address the application has not registered.");
        if (permit is { IsAcquired: false })
            return HtmlPages.RateLimited(http, RateLimits.RetryAfter(permit));

        // From here on the redirect URI is the app's own: errors go back to it (RFC 6749 §4.1.2.1).
        var issuer = options.Issuer(tenant);
        var state = One("state");
        RedirectHttpResult Fail(string error, string description) => LoginEndpoints.Redirect(http,
            ReturnUrlPolicy.Append(redirectUri, ("error", error), ("error_description", description), ("state", state), ("iss", issuer)));

        if (Single.FirstOrDefault(n => query[n].Count > 1) is { } repeated)
            return Fail("invalid_request", $"{repeated} is given more than once.");
        if (Single.Select(One).Any(v => v is { Length: > MaxValueLength } || v?.Any(char.IsControl) == true))
            return Fail("invalid_request", $"A parameter is longer than {MaxValueLength} characters or holds control characters.");
        if (One("response_type") != "code")
            return Fail("unsupported_response_type", "Only the authorization code flow (response_type=code) is supported.");
        if (One("response_mode") is { } mode && mode != "query")
            return Fail("invalid_request", "Only response_mode=query is supported.");
        var scopes = (One("scope") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        if (!scopes.Contains(OidcScopes.OpenId))
            return Fail("invalid_scope", "The scope must contain openid.");
        if (scopes.FirstOrDefault(s => !OidcScopes.Supported.Contains(s)) is { } unknown)
            return Fail("invalid_scope", $"The scope '{unknown}' is not supported; supported: {string.Join(' ', OidcScopes.Supported)}.");
        var challenge = One("code_challenge");
        var method = One("code_challenge_method");
        if (challenge is not null && method != "S256")
            return Fail("invalid_request", "code_challenge_method must be S256.");
        if (challenge is null && method is not null)
            return Fail("invalid_request", "code_challenge_method without code_challenge.");
        if (challenge is not null && !Pkce.IsValidVerifier(challenge))
            return Fail("invalid_request", "code_challenge is not a base64url S256 challenge.");
        if (challenge is null && client.IsPublic)
            return Fail("invalid_request", "This client must use PKCE: code_challenge and code_challenge_method=S256.");
        var prompt = One("prompt");
        if (prompt?.Split(' ').Contains("none") == true)
            return Fail("login_required", "The broker keeps no browser session to sign in without asking.");
        var (hints, badHint) = LoginHintsQuery.Read(new QueryCollection(query.Where(q => q.Key is "login_hint" or "prompt" or "ui_locales" or "max_age").ToDictionary()));
        if (badHint is not null)
            return Fail("invalid_request", $"{badHint} is malformed.");

        var allowed = (await tenantGrain.ListConnectionsAsync())
            .Where(c => client.Connections.Count == 0 || client.Connections.Contains(c.Id)).ToList();
        var connection = One("connection");
        if (connection is not null && !allowed.Any(c => c.Id == connection))
            return Fail("invalid_request", $"The connection '{connection}' is not one this application may use.");
        if (connection is null && allowed.Count == 0)
            return Fail("temporarily_unavailable", "The application has no sign-in method.");
        if (connection is null && allowed.Count > 1)
            return HtmlPages.ChooseConnection(http, view.DisplayName, allowed.OrderBy(c => c.Id, StringComparer.Ordinal).Select(c => (c.Id, c.ShownName,
                QueryHelpers.AddQueryString($"/t/{tenant}/authorize", query.Where(q => q.Key != "connection")
                    .Select(q => new KeyValuePair<string, string?>(q.Key, q.Value.ToString())).Append(new("connection", c.Id))))));

        var connectionId = connection ?? allowed[0].Id;
        var request = new OidcAuthorization(client.Id, redirectUri, state, One("nonce"), challenge, scopes);
        var begun = await grains.PendingLogin(RandomIds.New())
            .BeginAsync(new BeginLogin(view.Ref, connectionId, redirectUri, state, options.CallbackUrl(tenant), hints, Oidc: request));
        switch (begun)
        {
            case BeginLoginResult.Redirect upstream:
                return LoginEndpoints.Redirect(http, upstream.AuthorizeUrl.AbsoluteUri);
            case BeginLoginResult.Failed failed:
                logs.CreateLogger("Broker.Api.Provider.Authorize").LogWarning("An authorize request of tenant {Tenant} could not begin at {Connection}: {Code} {Detail}",
                    tenant, connectionId, failed.Code, failed.Detail);
                return Fail(failed.Code is "temporarily_unavailable" ? "temporarily_unavailable" : "server_error",
                    AppErrorCodes.Printable($"The sign-in could not begin at the provider ({failed.Detail.TrimEnd('.')}).") ?? "The sign-in could not begin at the provider.");
            default:
                return Fail("server_error", "The sign-in could not begin.");
        }
    }

    private static ContentHttpResult Page(HttpContext http, int status, string message) =>
        HtmlPages.Error(http, status, "Sign-in problem", message);
}

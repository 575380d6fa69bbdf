using Broker.Grains;
using Broker.Grains.Logins;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Broker.Api;

/// <summary>
/// The browser side of a login (docs/design.md §3): send the user to the provider, take the callback,
/// go back to the app with a one-time code or an RFC 6749 §4.1.2.1 error. Where the app cannot be
/// reached safely (bad tenant, bad return_to, bad state) the user gets a short HTML page instead,
/// never a redirect.
/// </summary>
public static class LoginEndpoints
{
    private const int MaxAppStateLength = 1024;

    public static IEndpointRouteBuilder MapLoginEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/t/{tenant}").WithTags("Browser");
        group.MapGet("/login", LoginAsync).WithName("Login");
        group.MapGet("/callback", CallbackAsync).WithName("Callback");
        group.MapGet("/logout", LogoutAsync).WithName("Logout");
        return app;
    }

    public static async Task<Results<RedirectHttpResult, ContentHttpResult>> LoginAsync(
        string tenant, string? connection, string? return_to, string? state,
        HttpContext http, IGrainFactory grains, BrokerGrainOptions options, RateLimits limits, ILoggerFactory logs)
    {
        using var permit = limits.Acquire(http, RateLimitedRoute.Login);
        if (!Ids.IsTenantOrConnection(tenant) || (connection is not null && !Ids.IsTenantOrConnection(connection)))
            return BadRequest(http, "The sign-in link is malformed.");
        var (hints, badHint) = LoginHintsQuery.Read(http.Request.Query);
        if (badHint is not null)
            return BadRequest(http, $"The sign-in link has a {badHint} this service does not accept.");
        if (state is { Length: > MaxAppStateLength } || state?.Any(char.IsControl) == true)
            return BadRequest(http, "The sign-in link carries a state value that is too long or malformed.");
        if (return_to is not null && !ReturnUrlPolicy.IsWellFormed(return_to))
            return BadRequest(http, "The sign-in link has a return address this service will not send you to.");

        var tenantGrain = grains.Tenant(tenant);
        if (await tenantGrain.GetAsync() is not { } view)
            return NotFound(http, "There is no such application.");
        if (ReturnUrlPolicy.Resolve(return_to, view.ReturnUrls) is not { } returnTo)
            return BadRequest(http, "The sign-in link has a return address this application has not registered.");

        var back = AppLink.For(view.DisplayName, [returnTo]);
        var connections = connection is null ? await tenantGrain.ListConnectionsAsync() : null;
        if ((connection is not null && await tenantGrain.GetConnectionAsync(connection) is null) || connections is { Count: 0 })
            return NotFound(http, "This application has no such sign-in method.", back);
        if (permit is { IsAcquired: false })
            return HtmlPages.RateLimited(http, RateLimits.RetryAfter(permit), back);
        if (connections is { Count: > 1 })
            return HtmlPages.ChooseConnection(http, view.DisplayName, connections.OrderBy(c => c.Id, StringComparer.Ordinal).Select(c => (c.Id, c.ShownName,
                QueryHelpers.AddQueryString($"/t/{tenant}/login", Query([("connection", c.Id), ("return_to", return_to), ("state", state), .. LoginHintsQuery.Carried(http.Request.Query)])))));

        var connectionId = connection ?? connections![0].Id;
        var begun = await grains.PendingLogin(RandomIds.New())
            .BeginAsync(new BeginLogin(view.Ref, connectionId, returnTo, state, options.CallbackUrl(tenant), hints));
        switch (begun)
        {
            case BeginLoginResult.Redirect redirect:
                return Redirect(http, redirect.AuthorizeUrl.AbsoluteUri);
            case BeginLoginResult.Refused refused:
                return BadRequest(http, refused.Detail, back);
            case BeginLoginResult.Failed failed:
                // return_to is verified, so the app can be told (RFC 6749 §4.1.2.1) rather than stranding the user.
                Log(logs).LogWarning("Login for tenant {Tenant} connection {Connection} could not begin: {Code} {Detail}", tenant, connectionId, failed.Code, failed.Detail);
                var error = failed.Code is "temporarily_unavailable" ? "temporarily_unavailable" : "server_error";
                var description = AppErrorCodes.Printable($"The sign-in could not begin at the provider ({failed.Detail.TrimEnd('.')}).");
                return Redirect(http, ReturnUrlPolicy.Append(returnTo, ("error", error), ("error_description", description), ("state", state)));
            default:
                throw new InvalidOperationException($"Unexpected login result {begun.GetType().Name}.");
        }
    }

    public static async Task<Results<RedirectHttpResult, ContentHttpResult>> CallbackAsync(
        string tenant, string? code, string? state, string? error, string? error_description,
        HttpContext http, IGrainFactory grains, RateLimits limits, BrokerGrainOptions options, ILoggerFactory logs)
    {
        using var permit = limits.Acquire(http, RateLimitedRoute.Callback);
        // A bad or missing state cannot be tied to a login, so there is nowhere safe to redirect (RFC 6749 §10.12).
        if (!Ids.IsTenantOrConnection(tenant) || !RandomIds.IsWellFormed(state))
            return BadRequest(http, "This sign-in response is not valid. Start signing in again from the application.");
        var tenantGrain = grains.Tenant(tenant);
        if (await tenantGrain.GetAsync() is not { } view)
            return NotFound(http, "There is no such application.");
        // The pending login, not the request, knows the return URL; a page can still lead back when the
        // tenant's return URLs all belong to one application.
        var back = AppLink.For(view.DisplayName, view.ReturnUrls);
        if (permit is { IsAcquired: false })
            return HtmlPages.RateLimited(http, RateLimits.RetryAfter(permit), back);

        var outcome = await grains.PendingLogin(state!).CompleteAsync(view.Ref, new Grains.Connectors.CallbackInput(code, error, error_description));
        var (returnTo, parameters) = outcome switch
        {
            CompleteLoginResult.Success s => (s.ReturnTo, new[] { ("code", (string?)s.HandoffCode), ("state", s.AppState) }),
            CompleteLoginResult.AppError e => (e.ReturnTo, new[] { ("error", (string?)e.Error), ("error_description", e.Description), ("state", e.AppState) }),
            CompleteLoginResult.Rejected r => (null, []),
            _ => throw new InvalidOperationException($"Unexpected callback result {outcome.GetType().Name}."),
        };
        if (returnTo is null)
        {
            Log(logs).LogWarning("Callback for tenant {Tenant} rejected: {Reason}", tenant, ((CompleteLoginResult.Rejected)outcome).Reason);
            return BadRequest(http, "This sign-in response was already used, has expired, or is not valid. Start signing in again from the application.", back);
        }
        // Checked again: the tenant (or the OpenID Provider's app) may have removed the URL while the user was at the provider.
        var clientId = outcome switch { CompleteLoginResult.Success s => s.ClientId, CompleteLoginResult.AppError e => e.ClientId, _ => null };
        var stillRegistered = clientId is null
            ? ReturnUrlPolicy.Match(returnTo, view.ReturnUrls) is not null
            : (await tenantGrain.GetClientAsync(clientId))?.Client.RedirectUris.Contains(returnTo, StringComparer.Ordinal) == true;
        if (!stillRegistered)
        {
            Log(logs).LogWarning("Callback for tenant {Tenant}: return URL no longer registered", tenant);
            return BadRequest(http, "The application's return address is no longer registered.");
        }
        // An OpenID Provider answer names its issuer (RFC 9207), so the app can tell which provider answered.
        if (clientId is not null)
            parameters = [.. parameters, ("iss", options.Issuer(tenant))];
        return Redirect(http, ReturnUrlPolicy.Append(returnTo, parameters));
    }

    /// <summary>
    /// Ends the session named by <c>session</c> (when it is this tenant's) and sends the browser to
    /// the provider's logout page where it has one, else straight to return_to.
    /// </summary>
    public static async Task<Results<RedirectHttpResult, ContentHttpResult>> LogoutAsync(
        string tenant, string? connection, string? return_to, string? session, HttpContext http, IGrainFactory grains)
    {
        if (!Ids.IsTenantOrConnection(tenant) || (connection is not null && !Ids.IsTenantOrConnection(connection))
            || (session is not null && !Ids.IsSession(session)))
            return BadRequest(http, "The sign-out link is malformed.");
        if (return_to is not null && !ReturnUrlPolicy.IsWellFormed(return_to))
            return BadRequest(http, "The sign-out link has a return address this service will not send you to.");
        var tenantGrain = grains.Tenant(tenant);
        if (await tenantGrain.GetAsync() is not { } view)
            return NotFound(http, "There is no such application.");
        if (ReturnUrlPolicy.Resolve(return_to, view.ReturnUrls) is not { } returnTo)
            return BadRequest(http, "The sign-out link has a return address this application has not registered.");
        if (connection is not null && await tenantGrain.GetConnectionAsync(connection) is null)
            return NotFound(http, "This application has no such sign-in method.", AppLink.For(view.DisplayName, [returnTo]));

        // The session's own logout sends its id_token as a hint; without one, the connection's plain
        // logout URL still ends the user's sign-in at the provider (docs/design.md §3).
        var providerLogout = session is null ? null : await grains.Session(session).LogoutAsync(view.Ref, returnTo);
        if (providerLogout is null && connection is not null)
            providerLogout = await tenantGrain.BuildLogoutUrlAsync(connection, returnTo);
        return Redirect(http, providerLogout?.AbsoluteUri ?? returnTo);
    }

    /// <summary>A redirect of the browser that may carry a code: kept out of caches and Referer headers.</summary>
    internal static RedirectHttpResult Redirect(HttpContext http, string url)
    {
        // The URL may carry a hand-off code: keep it out of caches and Referer headers.
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        return TypedResults.Redirect(url);
    }

    private static ContentHttpResult BadRequest(HttpContext http, string message, AppLink? back = null) =>
        HtmlPages.Error(http, StatusCodes.Status400BadRequest, "Sign-in problem", message, back);

    private static ContentHttpResult NotFound(HttpContext http, string message, AppLink? back = null) =>
        HtmlPages.Error(http, StatusCodes.Status404NotFound, "Not found", message, back);

    private static IEnumerable<KeyValuePair<string, string?>> Query(params (string Name, string? Value)[] values) =>
        values.Where(v => v.Value is not null).Select(v => new KeyValuePair<string, string?>(v.Name, v.Value));

    private static ILogger Log(ILoggerFactory logs) => logs.CreateLogger("Broker.Api.LoginEndpoints");
}

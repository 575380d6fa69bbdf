using Broker.Grains;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api.Provider;

/// <summary>
/// <c>GET /t/{tenant}/end_session</c> (OpenID Connect RP-Initiated Logout 1.0): with an id_token this provider
/// signed as the hint, ends the broker session it names (revoking upstream, as a logout does), so every token of
/// the app dies with it, and sends the browser to the upstream provider's logout where it has one, coming back to
/// the app's registered post-logout URI with <c>state</c>. Without a valid hint it ends nothing and shows a page.
/// </summary>
public static class ProviderEndSessionEndpoint
{
    public static IEndpointRouteBuilder MapProviderEndSession(this IEndpointRouteBuilder group)
    {
        group.MapGet("/end_session", EndSessionAsync).WithName("ProviderEndSession");
        return group;
    }

    public static async Task<Results<RedirectHttpResult, ContentHttpResult>> EndSessionAsync(
        string tenant, string? id_token_hint, string? post_logout_redirect_uri, string? state, string? client_id,
        HttpContext http, IGrainFactory grains, BrokerGrainOptions options)
    {
        if (!Ids.IsTenantOrConnection(tenant) || await grains.Tenant(tenant).GetAsync() is not { } view)
            return Page(http, StatusCodes.Status404NotFound, "There is no such application.");
        if (new[] { "id_token_hint", "post_logout_redirect_uri", "state", "client_id" }.Any(n => http.Request.Query[n].Count > 1))
            return Page(http, StatusCodes.Status400BadRequest, "The sign-out request repeats a parameter.");
        var hint = await ProviderTokens.ReadAsync(id_token_hint, tenant, "JWT", checkLifetime: false, grains, options);
        var audience = hint?.Audiences.SingleOrDefault();
        if (hint is null || audience is null || !hint.TryGetPayloadValue<string>("sid", out var sessionId) || (client_id is not null && client_id != audience))
            return Page(http, StatusCodes.Status400BadRequest, "The sign-out request does not say which sign-in to end; nothing was ended.");
        var client = await grains.Tenant(tenant).GetClientAsync(audience);
        if (client is null)
            return Page(http, StatusCodes.Status400BadRequest, "The sign-out request comes from an application this service does not know; nothing was ended.");
        if (post_logout_redirect_uri is not null && !client.Client.PostLogoutRedirectUris.Contains(post_logout_redirect_uri, StringComparer.Ordinal))
            return Page(http, StatusCodes.Status400BadRequest, "The sign-out request asks to return to an address the application has not registered; nothing was ended.");

        http.Response.Headers.CacheControl = "no-store";
        var session = grains.Session(Grains.Security.RandomIds.IsWellFormed(sessionId) ? sessionId : Grains.Security.RandomIds.New());
        if (post_logout_redirect_uri is null)
        {
            // Nowhere to come back to from the upstream provider's logout: the broker session ends, and a page says so.
            await session.EndAsync(view.Ref, Grains.Sessions.EndReasons.Logout);
            return HtmlPages.Page(http, StatusCodes.Status200OK, "Signed out", "<p>You are signed out of this application.</p>");
        }
        var back = ReturnUrlPolicy.Append(post_logout_redirect_uri, ("state", state));
        var upstreamLogout = await session.LogoutAsync(view.Ref, back);
        return TypedResults.Redirect(upstreamLogout?.AbsoluteUri ?? back);
    }

    private static ContentHttpResult Page(HttpContext http, int status, string message) =>
        HtmlPages.Error(http, status, "Sign-out problem", message);
}

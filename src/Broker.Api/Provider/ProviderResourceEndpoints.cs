using System.Text.Json.Nodes;
using Broker.Grains;
using Broker.Grains.Provider;
using Broker.Grains.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Broker.Api.Provider;

/// <summary>
/// What an app does with the provider's tokens: <c>/userinfo</c> (OIDC Core §5.3) with an access token, and, as the
/// authenticated client, <c>/revoke</c> (RFC 7009) and <c>/introspect</c> (RFC 7662) of its own tokens. Every token
/// is alive only while its grant and the broker session it came from are (docs/design.md §6 "OpenID Provider").
/// </summary>
public static class ProviderResourceEndpoints
{
    public static IEndpointRouteBuilder MapProviderResources(this IEndpointRouteBuilder group)
    {
        group.MapMethods("/userinfo", ["GET", "POST"], UserinfoAsync).WithName("ProviderUserinfo").DisableAntiforgery();
        group.MapPost("/revoke", RevokeAsync).WithName("ProviderRevoke").DisableAntiforgery();
        group.MapPost("/introspect", IntrospectAsync).WithName("ProviderIntrospect").DisableAntiforgery();
        return group;
    }

    public static async Task<ContentHttpResult> UserinfoAsync(string tenant, HttpContext http, IGrainFactory grains, BrokerGrainOptions options)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        if (!Ids.IsTenantOrConnection(tenant) || await grains.Tenant(tenant).GetAsync() is not { } view)
            return ProviderErrors.Error(http, "invalid_request", "No such tenant.", StatusCodes.Status404NotFound);
        if (await ActiveGrantAsync(token, tenant, view.Ref, grains, options) is not { } grant
            || await grains.Session(grant.SessionId).GetAsync(view.Ref) is not { Status: "active" } session)
        {
            http.Response.Headers.WWWAuthenticate = token is null ? "Bearer" : "Bearer error=\"invalid_token\"";
            return ProviderErrors.Error(http, "invalid_token", "The access token is not valid, has expired, or its sign-in has ended.", StatusCodes.Status401Unauthorized);
        }
        var claims = new JsonObject { ["sub"] = grant.UserId };
        foreach (var (claim, value) in GrantGrain.ProfileClaims(session.User, grant.Scopes))
            claims[claim] = value;
        return ProviderErrors.Json(http, StatusCodes.Status200OK, claims);
    }

    /// <summary>Revokes the grant the token belongs to (its refresh token and every access token); answers 200 for
    /// any token, known or not, as RFC 7009 §2.2 asks.</summary>
    public static async Task<ContentHttpResult> RevokeAsync(string tenant, HttpContext http, IGrainFactory grains, BrokerGrainOptions options)
    {
        var (client, form, refused) = await AuthenticateAsync(tenant, http, grains);
        if (refused is not null)
            return refused;
        var view = (await grains.Tenant(tenant).GetAsync())!;
        if (await ReadTokenAsync(form!["token"].FirstOrDefault(), tenant, checkLifetime: false, grains, options) is { } presented
            && await grains.Grant(presented.GrantId).GetAsync(view.Ref) is { } grant && grant.ClientId == client!)
            await grains.Grant(presented.GrantId).RevokeAsync(view.Ref);
        return ProviderErrors.Json(http, StatusCodes.Status200OK, []);
    }

    /// <summary>Active: an unexpired access token, or the current refresh token, of this client's grant that is still
    /// active (not revoked, its session not ended). A refresh token rotated away is inactive.</summary>
    public static async Task<ContentHttpResult> IntrospectAsync(string tenant, HttpContext http, IGrainFactory grains, BrokerGrainOptions options)
    {
        var (client, form, refused) = await AuthenticateAsync(tenant, http, grains);
        if (refused is not null)
            return refused;
        var view = (await grains.Tenant(tenant).GetAsync())!;
        var presented = await ReadTokenAsync(form!["token"].FirstOrDefault(), tenant, checkLifetime: true, grains, options);
        if (presented is null
            || await grains.Grant(presented.GrantId).GetAsync(view.Ref) is not { Active: true } grant || grant.ClientId != client
            || (presented.RefreshSecret is { } secret && !await grains.Grant(presented.GrantId).IsCurrentRefreshTokenAsync(view.Ref, secret)))
            return ProviderErrors.Json(http, StatusCodes.Status200OK, new JsonObject { ["active"] = false });
        var body = new JsonObject
        {
            ["active"] = true, ["client_id"] = grant.ClientId, ["sub"] = grant.UserId, ["scope"] = string.Join(' ', grant.Scopes),
            ["iss"] = options.Issuer(tenant), ["sid"] = grant.SessionId,
        };
        if (presented.Access is { } jwt)
        {
            body["token_type"] = "Bearer";
            body["aud"] = grant.ClientId;
            body["exp"] = new DateTimeOffset(jwt.ValidTo).ToUnixTimeSeconds();
            body["iat"] = new DateTimeOffset(jwt.IssuedAt).ToUnixTimeSeconds();
        }
        return ProviderErrors.Json(http, StatusCodes.Status200OK, body);
    }

    /// <summary>A token presented to revoke or introspect: a refresh token (<c>{grant}.{secret}</c>) or an access token (a
    /// JWT of this tenant, read once, naming its grant as <c>gid</c>).</summary>
    private sealed record PresentedToken(string GrantId, JsonWebToken? Access, string? RefreshSecret);

    private static async Task<PresentedToken?> ReadTokenAsync(string? token, string tenant, bool checkLifetime, IGrainFactory grains, BrokerGrainOptions options)
    {
        if (token is null)
            return null;
        if (token.Split('.') is [var grantId, var secret] && RandomIds.IsWellFormed(grantId) && RandomIds.IsWellFormed(secret))
            return new PresentedToken(grantId, null, secret);
        var jwt = await ProviderTokens.ReadAsync(token, tenant, "at+jwt", checkLifetime, grains, options);
        return jwt?.TryGetPayloadValue<string>("gid", out var gid) == true && RandomIds.IsWellFormed(gid) ? new PresentedToken(gid, jwt, null) : null;
    }

    /// <summary>The grant of a valid, unexpired access token of this tenant, when the grant is still active.</summary>
    private static async Task<GrantView?> ActiveGrantAsync(string? token, string tenant, Grains.Tenants.TenantRef life, IGrainFactory grains, BrokerGrainOptions options)
    {
        var jwt = await ProviderTokens.ReadAsync(token, tenant, "at+jwt", checkLifetime: true, grains, options);
        if (jwt is null || !jwt.TryGetPayloadValue<string>("gid", out var gid) || !RandomIds.IsWellFormed(gid))
            return null;
        return await grains.Grant(gid).GetAsync(life) is { Active: true } grant ? grant : null;
    }

    private static async Task<(string? Client, IFormCollection? Form, ContentHttpResult? Refused)> AuthenticateAsync(string tenant, HttpContext http, IGrainFactory grains)
    {
        var (form, unreadable) = await ProviderForms.ReadAsync(http);
        if (unreadable is not null)
            return (null, null, unreadable);
        if (!Ids.IsTenantOrConnection(tenant) || await grains.Tenant(tenant).GetAsync() is null)
            return (null, null, ProviderErrors.Error(http, "invalid_request", "No such tenant.", StatusCodes.Status404NotFound));
        var auth = await ClientAuthentication.AuthenticateAsync(http.Request, form!, grains.Tenant(tenant));
        if (auth.Client is null)
            return (null, null, ProviderErrors.InvalidClient(http, auth.Error!, auth.TriedBasic));
        if (form!["token"].Count != 1)
            return (null, null, ProviderErrors.Error(http, "invalid_request", "token is required, once."));
        return (auth.Client.Id, form, null);
    }
}

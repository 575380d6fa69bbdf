using System.Text.Json.Nodes;
using Broker.Grains;
using Broker.Grains.Provider;
using Broker.Grains.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api.Provider;

/// <summary>
/// <c>POST /t/{tenant}/token</c> (RFC 6749 §3.2, OIDC Core §3.1.3): an authorization code, once, for the client it
/// was given to, at its redirect URI, with its PKCE verifier; or a refresh token, which rotates on every use.
/// </summary>
public static class ProviderTokenEndpoint
{
    public static IEndpointRouteBuilder MapProviderToken(this IEndpointRouteBuilder group)
    {
        group.MapPost("/token", TokenAsync).WithName("ProviderToken").DisableAntiforgery();
        return group;
    }

    public static async Task<ContentHttpResult> TokenAsync(string tenant, HttpContext http, IGrainFactory grains, RateLimits limits)
    {
        using var permit = limits.Acquire(http, RateLimitedRoute.Token);
        var (form, refused) = await ProviderForms.ReadAsync(http);
        if (refused is not null)
            return refused;
        if (!Ids.IsTenantOrConnection(tenant) || await grains.Tenant(tenant).GetAsync() is not { } view)
            return ProviderErrors.Error(http, "invalid_request", "No such tenant.", StatusCodes.Status404NotFound);
        if (permit is { IsAcquired: false })
        {
            http.Response.Headers.RetryAfter = Problems.RetryAfterSeconds(RateLimits.RetryAfter(permit));
            return ProviderErrors.Error(http, "temporarily_unavailable", "Too many token requests from this address; try again later.", StatusCodes.Status429TooManyRequests);
        }
        if (form!.Keys.FirstOrDefault(k => form[k].Count > 1) is { } repeated)
            return ProviderErrors.Error(http, "invalid_request", $"{repeated} is given more than once.");

        var auth = await ClientAuthentication.AuthenticateAsync(http.Request, form, grains.Tenant(tenant));
        if (auth.Client is not { } client)
            return ProviderErrors.InvalidClient(http, auth.Error!, auth.TriedBasic);

        TokenOutcome outcome;
        switch (form["grant_type"].FirstOrDefault())
        {
            case "authorization_code":
                var code = form["code"].FirstOrDefault();
                if (!RandomIds.IsWellFormed(code))
                    return ProviderErrors.Error(http, "invalid_grant", "The code is unknown.");
                outcome = await grains.AuthorizationCode(code!).RedeemAsync(view.Ref, client.Id, form["redirect_uri"].FirstOrDefault(),
                    form["code_verifier"].FirstOrDefault(), client.OfflineAccess);
                break;
            case "refresh_token":
                var refresh = form["refresh_token"].FirstOrDefault()?.Split('.', 2);
                if (refresh is not [var grantId, var secret] || !RandomIds.IsWellFormed(grantId))
                    return ProviderErrors.Error(http, "invalid_grant", "The refresh token is unknown.");
                outcome = await grains.Grant(grantId).RefreshAsync(view.Ref, client.Id, secret);
                break;
            case null:
                return ProviderErrors.Error(http, "invalid_request", "grant_type is required.");
            default:
                return ProviderErrors.Error(http, "unsupported_grant_type", "This provider takes authorization_code and refresh_token.");
        }
        if (outcome.Tokens is not { } tokens)
            return ProviderErrors.Error(http, outcome.Error!, outcome.Description!);
        var body = new JsonObject
        {
            ["access_token"] = tokens.AccessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = tokens.ExpiresIn,
            ["id_token"] = tokens.IdToken,
            ["scope"] = tokens.Scope,
        };
        if (tokens.RefreshToken is not null)
            body["refresh_token"] = tokens.RefreshToken;
        return ProviderErrors.Json(http, StatusCodes.Status200OK, body);
    }
}

using Broker.Grains;
using Broker.Grains.Logins;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Broker.Api;

/// <summary>
/// Account linking (docs/design.md §6 "Users and identities"): the app asks, for a signed-in user's session, for
/// a one-time URL that signs in at another connection. The identity proved there is linked to the session's
/// user, so one person who proved both accounts in one browser is one user. Nothing is ever linked by e-mail or name.
/// </summary>
public static class LinkEndpoints
{
    private const int MaxAppStateLength = 1024;

    public static IEndpointRouteBuilder MapLinkEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/tenants/{tenant}/sessions/{session}/links", CreateAsync).WithTags("Users").WithName("CreateLink");
        return app;
    }

    /// <summary>
    /// 201 with the URL, which is the provider's sign-in page for a pending login begun here: it works once (the
    /// callback spends its state) and for the pending login's 10 minutes. On success the app gets
    /// <c>returnTo?code=..&amp;state=..</c> as after any login, and the exchange gives a session of the same user.
    /// </summary>
    public static async Task<Results<Created<LinkResponse>, ProblemHttpResult>> CreateAsync(
        string tenant, string session, HttpContext http, IGrainFactory grains, BrokerGrainOptions options, ILoggerFactory logs)
    {
        var body = await JsonBody.ReadAsync<LinkBody>(http.Request, Validate);
        SessionView? view = null;
        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("session", Ids.IsSession(session))],
            Body = body.Check,
            Tenant = tenant,
            Resource = new Lookup("session", async owner => (view = await grains.Session(session).GetAsync(owner)) is not null),
        });
        if (check.Refused is { } refused)
            return refused;
        // A blocked user's sessions have all ended, so this also refuses a blocked user's link.
        if (view!.Status != "active")
            return Problems.SessionEnded(view.EndReason!);

        var link = body.Value!;
        var tenantGrain = grains.Tenant(tenant);
        var returnUrls = (await tenantGrain.GetAsync())?.ReturnUrls ?? [];
        var returnTo = ReturnUrlPolicy.Resolve(link.ReturnTo, returnUrls);
        if (returnTo is null)
            return Problems.Invalid("returnTo", link.ReturnTo is null
                ? "is required when the tenant has more than one return URL."
                : "is not one of the tenant's return URLs.");
        if (await tenantGrain.GetConnectionAsync(link.Connection!) is null)
            return Problems.NotFound("connection");

        var begun = await grains.PendingLogin(RandomIds.New()).BeginAsync(
            new BeginLogin(check.Tenant!, link.Connection!, returnTo, link.State, options.CallbackUrl(tenant), LinkToUserId: view.User.Id));
        http.Response.Headers.CacheControl = "no-store";
        switch (begun)
        {
            case BeginLoginResult.Redirect redirect:
                return TypedResults.Created((string?)null, new LinkResponse(redirect.AuthorizeUrl.AbsoluteUri, redirect.ExpiresAt));
            case BeginLoginResult.Failed { Code: "connection_not_found" }:
                return Problems.NotFound("connection");
            case BeginLoginResult.Failed failed:
                logs.CreateLogger("Broker.Api.LinkEndpoints").LogWarning("A link login for tenant {Tenant} connection {Connection} could not begin: {Code} {Detail}",
                    tenant, link.Connection, failed.Code, failed.Detail);
                return Problems.UpstreamUnavailable(http);
            default:
                throw new InvalidOperationException($"Unexpected login result {begun.GetType().Name}.");
        }
    }

    private static Dictionary<string, string[]> Validate(LinkBody body)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.Connection is null)
            errors["connection"] = ["is required."];
        else if (!Ids.IsTenantOrConnection(body.Connection))
            errors["connection"] = ["must match ^[a-z0-9][a-z0-9-]{1,62}$."];
        if (body.ReturnTo is not null && !ReturnUrlPolicy.IsWellFormed(body.ReturnTo))
            errors["returnTo"] = ["is not an absolute http(s) URL the broker can send a browser to."];
        if (body.State is { Length: > MaxAppStateLength })
            errors["state"] = [$"must be at most {MaxAppStateLength} characters."];
        return errors;
    }
}

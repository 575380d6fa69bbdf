using System.Threading.RateLimiting;
using Broker.Grains;
using Broker.Grains.Tenants;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Api;

/// <summary>Who may call a route: /admin takes only the admin token; tenant routes take the tenant's key or the admin token.</summary>
public enum Caller { Admin, TenantOrAdmin }

/// <summary>A lookup, in the tenant's current life, whose failure is a 404 naming <see cref="What"/>.</summary>
public sealed record Lookup(string What, Func<TenantRef, Task<bool>> ExistsAsync)
{
    /// <summary>
    /// Looks up and runs the route's action in one call, answering false for "not found". Used instead of
    /// <see cref="ExistsAsync"/> when the caller is already known to pass every rule after the lookup, so that
    /// a hot read costs one grain call instead of two; never when a later rule could still refuse the request.
    /// </summary>
    public Func<TenantRef, Task<bool>>? ExistsAndActAsync { get; init; }
}

/// <summary>What <see cref="ApiChecks.RunAsync"/> found: the refusal to answer with, or the tenant's
/// current life (for routes that name a tenant) that the action acts on.</summary>
public readonly record struct Checked(ProblemHttpResult? Refused, TenantRef? Tenant);

/// <summary>What one REST request needs checked. Every member is optional; <see cref="ApiChecks.RunAsync"/> applies them in §6 order.</summary>
public sealed record Rules
{
    /// <summary>Path ids with whether each is well formed.</summary>
    public IReadOnlyList<(string Name, bool WellFormed)> Ids { get; init; } = [];

    public BodyCheck Body { get; init; } = BodyCheck.Fine;

    /// <summary>The tenant the route acts on; it must exist (not for tenant creation).</summary>
    public string? Tenant { get; init; }

    /// <summary>A resource of the tenant that must exist (connection, session, user).</summary>
    public Lookup? Resource { get; init; }

    /// <summary>For exchange: whether the hand-off code is valid, checked without using it up.</summary>
    public Func<TenantRef, Task<bool>>? GrantIsValidAsync { get; init; }

    /// <summary>For tenant creation: whether the id is taken.</summary>
    public Func<Task<bool>>? IsDuplicateAsync { get; init; }

    public Caller Caller { get; init; } = Caller.TenantOrAdmin;

    public RateLimitedRoute? RateLimit { get; init; }
}

/// <summary>
/// The status-code order of docs/design.md §6 in one place, "the first rule that applies wins":
/// 400 malformed id or body; 404 unknown tenant or resource; 400 invalid_grant; 409 duplicate;
/// 401 missing or wrong bearer (a tenant key on /admin, a deleted tenant's key); 404 another
/// tenant's key; 413 body too large; 429 rate limited. Handlers run their action only when this
/// returns null, so a request refused here has changed nothing.
/// </summary>
public static class ApiChecks
{
    public static async Task<Checked> RunAsync(HttpContext http, Rules rules)
    {
        TenantRef? tenant = null;
        var refused = await RefuseAsync(http, rules, found => tenant = found);
        return new Checked(refused, refused is null ? tenant : null);
    }

    private static async Task<ProblemHttpResult?> RefuseAsync(HttpContext http, Rules rules, Action<TenantRef> foundTenant)
    {
        TenantRef? current = null;
        var services = http.RequestServices;
        var options = services.GetRequiredService<BrokerApiOptions>();
        var grains = services.GetRequiredService<IGrainFactory>();
        // The permit is taken first so every request counts against the budget; a refusal is only
        // reported at its place in the order, last.
        using var permit = rules.RateLimit is { } route ? services.GetRequiredService<RateLimits>().Acquire(http, route) : null;

        foreach (var (name, wellFormed) in rules.Ids)
        {
            if (!wellFormed)
                return Problems.Invalid(name, name is "tenant" or "connection" ? "must match ^[a-z0-9][a-z0-9-]{1,62}$." : $"is not a well-formed {name} id.");
        }
        if (rules.Body.Invalid is { } invalid)
            return invalid;

        var token = BearerAuth.Token(http.Request);
        var isAdmin = BearerAuth.IsAdmin(token, options);
        // A key that names the route's own tenant (the usual case) is checked in the turn that finds
        // the tenant: one state read instead of two. Its answer is still used only at rule 5.
        var ownKey = !isAdmin && rules.Caller == Caller.TenantOrAdmin && token is not null && ApiKeys.TenantOf(token) == rules.Tenant ? token : null;
        bool? ownKeyIsValid = null;
        if (rules.Tenant is { } tenant)
        {
            var access = await grains.Tenant(tenant).GetAccessAsync(ownKey);
            ownKeyIsValid = ownKey is null ? null : access.KeyIsValid;
            switch (access.Status)
            {
                case TenantStatus.Unknown:
                    return Problems.NotFound("tenant");
                // A deleted tenant's resources are not looked up: its old keys get 401 (they were
                // valid once, so "not found" would mislead), the operator gets 404.
                case TenantStatus.Deleted:
                    return isAdmin ? Problems.NotFound("tenant") : Problems.Unauthorized(http, token is not null);
            }
            // Every lookup and action of this request is in the life found here: never a session,
            // user or code of a deleted tenant that had the same id.
            current = access.Tenant!;
            foundTenant(current);
            if (rules.Resource is { } resource)
            {
                var acts = resource.ExistsAndActAsync is not null && (isAdmin || ownKeyIsValid == true) && PassesAfterAuthentication(rules, permit);
                if (!await (acts ? resource.ExistsAndActAsync! : resource.ExistsAsync)(current))
                    return Problems.NotFound(resource.What);
            }
        }

        // A body too large was never read, so it holds no code to judge: it is the 413 below, after
        // authentication, not an invalid_grant.
        if (rules.GrantIsValidAsync is { } grantIsValid && !rules.Body.TooLarge && (current is null || !await grantIsValid(current)))
            return Problems.InvalidGrant();
        if (rules.IsDuplicateAsync is { } isDuplicate && await isDuplicate())
            return Problems.TenantExists();

        if (!isAdmin && await AuthenticateTenantAsync(http, grains, token, rules, ownKeyIsValid) is { } refused)
            return refused;
        if (rules.Body.TooLarge)
            return Problems.TooLarge();
        if (permit is { IsAcquired: false })
            return Problems.RateLimited(http, RateLimits.RetryAfter(permit));
        return null;
    }

    /// <summary>Whether the rules after authentication (invalid grant, duplicate, size, rate) cannot refuse this request.</summary>
    private static bool PassesAfterAuthentication(Rules rules, RateLimitLease? permit) =>
        rules.GrantIsValidAsync is null && rules.IsDuplicateAsync is null && !rules.Body.TooLarge && permit is null or { IsAcquired: true };

    /// <summary>401 for no key, a wrong key or a key on /admin; 404 for another tenant's valid key.
    /// <paramref name="ownKeyIsValid"/> is the answer the tenant lookup already gave for a key of the route's tenant.</summary>
    private static async Task<ProblemHttpResult?> AuthenticateTenantAsync(HttpContext http, IGrainFactory grains, string? token, Rules rules, bool? ownKeyIsValid)
    {
        if (token is null || rules.Caller == Caller.Admin || rules.Tenant is null || ApiKeys.TenantOf(token) is not { } keyTenant || !Ids.IsTenantOrConnection(keyTenant))
            return Problems.Unauthorized(http, token is not null);
        // Asking the key's own tenant is what tells "wrong key" (401) from "another tenant's key" (404).
        if (!(ownKeyIsValid ?? await grains.Tenant(keyTenant).CheckApiKeyAsync(token)))
            return Problems.Unauthorized(http, tokenSent: true);
        return keyTenant == rules.Tenant ? null : Problems.NotFound("tenant");
    }
}

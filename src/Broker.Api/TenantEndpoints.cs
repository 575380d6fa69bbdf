using Broker.Grains;
using Broker.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary><c>PATCH /api/tenants/{tenant}</c>, and the rules for tenant fields that the admin routes share.</summary>
public static class TenantEndpoints
{
    public const int MinRefreshLeadSeconds = 5, MaxRefreshLeadSeconds = 3600;
    public const int MinLifetimeSeconds = 60, MaxLifetimeSeconds = 365 * 86_400;

    public static IEndpointRouteBuilder MapTenantEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/tenants").WithTags("Tenants")
            .MapPatch("/{tenant}", PatchAsync).WithName("PatchTenant");
        return app;
    }

    /// <summary>Replaces the members the body names, at every depth, and keeps the others (docs/design.md §6).</summary>
    public static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> PatchAsync(string tenant, HttpContext http, IGrainFactory grains)
    {
        var body = await JsonBody.ReadAsync<PatchTenantBody>(http.Request, Validate, rejectNulls: true);
        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant))],
            Body = body.Check,
            Tenant = tenant,
        });
        if (check.Refused is { } refused)
            return refused;

        var patch = body.Value!;
        if (TooManyReturnUrls(patch.ReturnUrls) is { } tooMany)
            return tooMany;
        var view = await grains.Tenant(tenant).UpdateAsync(new TenantPatch(
            patch.DisplayName, patch.ReturnUrls, patch.SessionPolicy?.RefreshLeadSeconds, patch.SessionPolicy?.LifetimeSeconds));
        // Null only when the tenant was deleted between the check and the update.
        return view is null ? Problems.NotFound("tenant") : TypedResults.Ok(TenantResponse.From(view));
    }

    private static Dictionary<string, string[]> Validate(PatchTenantBody body)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.DisplayName is not null)
            CheckDisplayName(errors, body.DisplayName);
        if (body.ReturnUrls is not null)
            CheckReturnUrls(errors, body.ReturnUrls);
        if (body.SessionPolicy?.RefreshLeadSeconds is { } lead and (< MinRefreshLeadSeconds or > MaxRefreshLeadSeconds))
            errors["sessionPolicy.refreshLeadSeconds"] = [$"must be from {MinRefreshLeadSeconds} to {MaxRefreshLeadSeconds}."];
        if (body.SessionPolicy?.LifetimeSeconds is { } lifetime and (< MinLifetimeSeconds or > MaxLifetimeSeconds))
            errors["sessionPolicy.lifetimeSeconds"] = [$"must be from {MinLifetimeSeconds} to {MaxLifetimeSeconds}."];
        return errors;
    }

    internal static void CheckDisplayName(Dictionary<string, string[]> errors, string? displayName)
    {
        if (string.IsNullOrWhiteSpace(displayName) || displayName.Length > 200 || displayName.Any(char.IsControl))
            errors["displayName"] = ["is required: 1 to 200 characters, no control characters."];
    }

    internal static void CheckReturnUrls(Dictionary<string, string[]> errors, IReadOnlyList<string?> returnUrls)
    {
        for (var i = 0; i < returnUrls.Count; i++)
        {
            if (ReturnUrlPolicy.CheckRegistration(returnUrls[i]) is { } problem)
                errors[$"returnUrls[{i}]"] = [problem];
            // One that matches an earlier one would match the same return_to values: a mistake, not a choice.
            else if (returnUrls.Take(i).Any(earlier => ReturnUrlPolicy.Match(returnUrls[i], [earlier!]) is not null))
                errors[$"returnUrls[{i}]"] = ["repeats an earlier return URL."];
        }
    }

    /// <summary>409 <c>limit_reached</c> past <see cref="TenantLimits.ReturnUrls"/>, given once the request is authenticated.</summary>
    internal static ProblemHttpResult? TooManyReturnUrls(IReadOnlyList<string>? returnUrls) =>
        returnUrls?.Count > TenantLimits.ReturnUrls
            ? Problems.LimitReached($"A tenant has at most {TenantLimits.ReturnUrls} return URLs.")
            : null;
}

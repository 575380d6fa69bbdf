using Broker.Grains;
using Broker.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary>The operator's routes (docs/design.md §3); the bearer is the admin token, never a tenant key.</summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/tenants").WithTags("Admin");
        group.MapPost("/", CreateTenantAsync).WithName("CreateTenant");
        group.MapGet("/", ListTenantsAsync).WithName("ListTenants");
        group.MapGet("/{tenant}", GetTenantAsync).WithName("GetTenant");
        group.MapDelete("/{tenant}", DeleteTenantAsync).WithName("DeleteTenant");
        group.MapPost("/{tenant}/api-keys", AddApiKeyAsync).WithName("AddApiKey");
        group.MapGet("/{tenant}/api-keys", ListApiKeysAsync).WithName("ListApiKeys");
        group.MapDelete("/{tenant}/api-keys/{key}", DeleteApiKeyAsync).WithName("DeleteApiKey");
        return app;
    }

    /// <summary>Creates a tenant and returns its first API key; the key is shown this once.</summary>
    public static async Task<Results<Created<CreatedTenantResponse>, ProblemHttpResult>> CreateTenantAsync(HttpContext http, IGrainFactory grains)
    {
        var body = await JsonBody.ReadAsync<CreateTenantBody>(http.Request, Validate);
        var id = body.Value?.Id;
        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Body = body.Check,
            IsDuplicateAsync = async () => id is not null && await grains.Tenant(id).GetStatusAsync() == TenantStatus.Active,
            Caller = Caller.Admin,
        });
        if (check.Refused is { } refused)
            return refused;

        if (TenantEndpoints.TooManyReturnUrls(body.Value!.ReturnUrls) is { } tooMany)
            return tooMany;
        var created = await grains.Tenant(id!).CreateAsync(body.Value!.DisplayName!, body.Value.ReturnUrls ?? []);
        // Not created: another request made the same tenant after the duplicate check.
        if (!created.Created || created.ApiKey is null)
            return Problems.TenantExists();
        return TypedResults.Created($"/admin/tenants/{id}", new CreatedTenantResponse(id!, created.ApiKey));
    }

    /// <summary>The tenants in id order, a page at a time; <c>nextCursor</c> (opaque) fetches the next page, and is
    /// null on the last. Paging is stable: a tenant created meanwhile is on a later page if its id sorts after the cursor.</summary>
    public static async Task<Results<Ok<PageResponse<TenantResponse>>, ProblemHttpResult>> ListTenantsAsync(
        HttpContext http, IGrainFactory grains, ITenantDirectory directory)
    {
        var page = PageRequest.Read(http.Request.Query, maxLimit: 100, defaultLimit: 50, Ids.IsTenantOrConnection);
        var check = await ApiChecks.RunAsync(http, new Rules { Body = new BodyCheck(page.Invalid, false), Caller = Caller.Admin });
        if (check.Refused is { } refused)
            return refused;
        var items = new List<TenantResponse>();
        var after = page.After;
        // An id whose tenant is not active (a creation that failed after the directory took it) is skipped.
        while (items.Count < page.Limit)
        {
            var wanted = page.Limit - items.Count;
            var ids = await directory.ListAsync(after, wanted);
            var views = await Task.WhenAll(ids.Select(id => grains.Tenant(id).GetAsync()));
            items.AddRange(views.OfType<TenantView>().Select(TenantResponse.From));
            if (ids.Count < wanted)
                return TypedResults.Ok(new PageResponse<TenantResponse>(items, null));
            after = ids[^1];
        }
        var more = (await directory.ListAsync(after, 1)).Count > 0;
        return TypedResults.Ok(new PageResponse<TenantResponse>(items, more ? PageRequest.Cursor(after!) : null));
    }

    public static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> GetTenantAsync(string tenant, HttpContext http, IGrainFactory grains)
    {
        var check = await ApiChecks.RunAsync(http, AdminRules(tenant));
        if (check.Refused is { } refused)
            return refused;
        var view = await grains.Tenant(tenant).GetAsync();
        return view is null ? Problems.NotFound("tenant") : TypedResults.Ok(TenantResponse.From(view));
    }

    /// <summary>Deletes the tenant: its keys stop working at once (401 from then on) and its connections go.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteTenantAsync(string tenant, HttpContext http, IGrainFactory grains)
    {
        var check = await ApiChecks.RunAsync(http, AdminRules(tenant));
        if (check.Refused is { } refused)
            return refused;
        return await grains.Tenant(tenant).DeleteAsync() ? TypedResults.NoContent() : Problems.NotFound("tenant");
    }

    /// <summary>A further key; the older ones stay valid (rotation without downtime).</summary>
    public static async Task<Results<Created<ApiKeyResponse>, ProblemHttpResult>> AddApiKeyAsync(string tenant, HttpContext http, IGrainFactory grains)
    {
        var check = await ApiChecks.RunAsync(http, AdminRules(tenant));
        if (check.Refused is { } refused)
            return refused;
        return await grains.Tenant(tenant).AddApiKeyAsync() switch
        {
            null => Problems.NotFound("tenant"),
            { ApiKey: { } key } => TypedResults.Created((string?)null, new ApiKeyResponse(key)),
            _ => Problems.LimitReached($"A tenant has at most {TenantLimits.ApiKeys} API keys; delete one first."),
        };
    }

    /// <summary>The tenant's keys by id (the middle part of <c>{tenant}.{id}.{secret}</c>) and creation time; never a key.</summary>
    public static async Task<Results<Ok<ItemsResponse<ApiKeyItem>>, ProblemHttpResult>> ListApiKeysAsync(string tenant, HttpContext http, IGrainFactory grains)
    {
        var check = await ApiChecks.RunAsync(http, AdminRules(tenant));
        if (check.Refused is { } refused)
            return refused;
        var keys = await grains.Tenant(tenant).ListApiKeysAsync();
        return keys is null ? Problems.NotFound("tenant") : TypedResults.Ok(new ItemsResponse<ApiKeyItem>([.. keys.Select(k => new ApiKeyItem(k.Id, k.CreatedAt))]));
    }

    /// <summary>Retires one key (a leaked one, or the old one after a rotation): 401 for it from then on.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteApiKeyAsync(string tenant, string key, HttpContext http, IGrainFactory grains)
    {
        var grain = grains.Tenant(tenant);
        var check = await ApiChecks.RunAsync(http, AdminRules(tenant) with
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("key", ApiKeys.IsWellFormedId(key))],
            Resource = new Lookup("API key", async _ => (await grain.ListApiKeysAsync())?.Any(k => k.Id == key) == true),
        });
        if (check.Refused is { } refused)
            return refused;
        // False only when a concurrent request deleted it first.
        return await grain.DeleteApiKeyAsync(key) ? TypedResults.NoContent() : Problems.NotFound("API key");
    }

    private static Rules AdminRules(string tenant) => new()
    {
        Ids = [("tenant", Ids.IsTenantOrConnection(tenant))],
        Tenant = tenant,
        Caller = Caller.Admin,
    };

    private static Dictionary<string, string[]> Validate(CreateTenantBody body)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Ids.IsTenantOrConnection(body.Id))
            errors["id"] = ["is required and must match ^[a-z0-9][a-z0-9-]{1,62}$."];
        TenantEndpoints.CheckDisplayName(errors, body.DisplayName);
        if (body.ReturnUrls is null)
            errors["returnUrls"] = ["is required (it may be empty)."];
        else
            TenantEndpoints.CheckReturnUrls(errors, body.ReturnUrls);
        return errors;
    }
}

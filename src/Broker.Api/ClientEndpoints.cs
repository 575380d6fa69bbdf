using Broker.Grains;
using Broker.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary>The app clients of the tenant's OpenID Provider (docs/design.md §6 "OpenID Provider"). A secret is
/// shown once, when it is made; only its hash is kept.</summary>
public static class ClientEndpoints
{
    public static IEndpointRouteBuilder MapClientEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/tenants/{tenant}/clients").WithTags("App clients");
        group.MapPut("/{client}", PutAsync).WithName("PutClient");
        group.MapGet("/", ListAsync).WithName("ListClients");
        group.MapGet("/{client}", GetAsync).WithName("GetClient");
        group.MapDelete("/{client}", DeleteAsync).WithName("DeleteClient");
        group.MapPost("/{client}/secret", RotateSecretAsync).WithName("RotateClientSecret");
        return app;
    }

    /// <summary>Registers (201) or replaces (200) an app client. The answer holds <c>clientSecret</c> only when this
    /// call made one: a new confidential client, or a public one made confidential. A replacement keeps the secret.</summary>
    public static async Task<Results<Created<AppClientWithSecretResponse>, Created<AppClientResponse>, Ok<AppClientWithSecretResponse>, Ok<AppClientResponse>, ProblemHttpResult>> PutAsync(
        string tenant, string client, HttpContext http, IGrainFactory grains)
    {
        var body = await JsonBody.ReadAsync<AppClientBody>(http.Request, b => b.Errors(client));
        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("client", Ids.IsTenantOrConnection(client))],
            Body = body.Check,
            Tenant = tenant,
        });
        if (check.Refused is { } refused)
            return refused;

        var registration = body.Value!.ToClient(client);
        var tenantGrain = grains.Tenant(tenant);
        var known = (await tenantGrain.ListConnectionsAsync()).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var unknown = registration.Connections.Select((id, i) => (id, i)).Where(c => !known.Contains(c.id)).ToList();
        if (unknown.Count > 0)
            return Problems.Invalid(unknown.ToDictionary(c => $"connections[{c.i}]", c => new[] { $"'{c.id}' is not a connection of this tenant." }));

        var result = await tenantGrain.PutClientAsync(registration);
        if (result is null)
            return Problems.NotFound("tenant");
        if (result.Outcome == PutOutcome.LimitReached)
            return Problems.LimitReached($"A tenant has at most {TenantLimits.AppClients} app clients.");
        http.Response.Headers.CacheControl = "no-store";
        var location = $"/api/tenants/{tenant}/clients/{client}";
        return (result.Outcome, result.ClientSecret) switch
        {
            (PutOutcome.Created, { } secret) => TypedResults.Created(location, AppClientWithSecretResponse.From(result.Client!, secret)),
            (PutOutcome.Created, null) => TypedResults.Created(location, AppClientResponse.From(result.Client!)),
            (_, { } secret) => TypedResults.Ok(AppClientWithSecretResponse.From(result.Client!, secret)),
            _ => TypedResults.Ok(AppClientResponse.From(result.Client!)),
        };
    }

    public static async Task<Results<Ok<ItemsResponse<AppClientResponse>>, ProblemHttpResult>> ListAsync(string tenant, HttpContext http, IGrainFactory grains)
    {
        var check = await ApiChecks.RunAsync(http, new Rules { Ids = [("tenant", Ids.IsTenantOrConnection(tenant))], Tenant = tenant });
        if (check.Refused is { } refused)
            return refused;
        var clients = await grains.Tenant(tenant).ListClientsAsync();
        return clients is null ? Problems.NotFound("tenant") : TypedResults.Ok(new ItemsResponse<AppClientResponse>(clients.Select(AppClientResponse.From).ToList()));
    }

    public static async Task<Results<Ok<AppClientResponse>, ProblemHttpResult>> GetAsync(string tenant, string client, HttpContext http, IGrainFactory grains)
    {
        AppClientView? view = null;
        var check = await ApiChecks.RunAsync(http, Rules(tenant, client, async _ => (view = await grains.Tenant(tenant).GetClientAsync(client)) is not null));
        if (check.Refused is { } refused)
            return refused;
        return TypedResults.Ok(AppClientResponse.From(view!));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string tenant, string client, HttpContext http, IGrainFactory grains)
    {
        var tenantGrain = grains.Tenant(tenant);
        var check = await ApiChecks.RunAsync(http, Rules(tenant, client, async _ => await tenantGrain.GetClientAsync(client) is not null));
        if (check.Refused is { } refused)
            return refused;
        return await tenantGrain.DeleteClientAsync(client) ? TypedResults.NoContent() : Problems.NotFound("client");
    }

    /// <summary>A new secret, shown once; the old one stops working at once. A public client has none: 409.</summary>
    public static async Task<Results<Ok<ClientSecretResponse>, ProblemHttpResult>> RotateSecretAsync(string tenant, string client, HttpContext http, IGrainFactory grains)
    {
        var tenantGrain = grains.Tenant(tenant);
        var check = await ApiChecks.RunAsync(http, Rules(tenant, client, async _ => await tenantGrain.GetClientAsync(client) is not null));
        if (check.Refused is { } refused)
            return refused;
        var rotated = await tenantGrain.RotateClientSecretAsync(client);
        http.Response.Headers.CacheControl = "no-store";
        return rotated.Outcome switch
        {
            RotateSecretOutcome.Rotated => TypedResults.Ok(new ClientSecretResponse(rotated.ClientSecret!)),
            RotateSecretOutcome.PublicClient => Problems.Create(StatusCodes.Status409Conflict, "public_client",
                "This client authenticates with PKCE alone (tokenEndpointAuthMethod none) and has no secret.",
                "Replace it with client_secret_basic or client_secret_post to give it one."),
            _ => Problems.NotFound("client"),
        };
    }

    private static Rules Rules(string tenant, string client, Func<TenantRef, Task<bool>> exists) => new()
    {
        Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("client", Ids.IsTenantOrConnection(client))],
        Tenant = tenant,
        Resource = new Lookup("client", exists),
    };
}

using Broker.Grains;
using Broker.Grains.Connectors;
using Broker.Grains.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary>A tenant's client configurations at upstream providers (docs/design.md §3). Secrets go in, never out.</summary>
public static class ConnectionEndpoints
{
    public static IEndpointRouteBuilder MapConnectionEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/tenants/{tenant}/connections").WithTags("Connections");
        group.MapPut("/{connection}", PutAsync).WithName("PutConnection");
        group.MapGet("/", ListAsync).WithName("ListConnections");
        group.MapGet("/{connection}", GetAsync).WithName("GetConnection");
        group.MapDelete("/{connection}", DeleteAsync).WithName("DeleteConnection");
        group.MapPost("/{connection}/check", CheckAsync).WithName("CheckConnection");
        return app;
    }

    /// <summary>
    /// Creates (201) or replaces (200) a connection. A replacement is whole: members left out take
    /// their defaults, and the secret must be sent again, since it is never shown to copy back.
    /// </summary>
    public static async Task<Results<Created<ConnectionResponse>, Ok<ConnectionResponse>, ProblemHttpResult>> PutAsync(
        string tenant, string connection, HttpContext http, IGrainFactory grains, ConnectorFactory connectors)
    {
        var body = await JsonBody.ReadAsync<ConnectionBody>(http.Request, b => Validate(b, connection, connectors));
        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("connection", Ids.IsTenantOrConnection(connection))],
            Body = body.Check,
            Tenant = tenant,
        });
        if (check.Refused is { } refused)
            return refused;

        var config = body.Value!.ToConfig(connection);
        var view = ConnectionResponse.From(config);
        return await grains.Tenant(tenant).PutConnectionAsync(config) switch
        {
            PutOutcome.Created => TypedResults.Created($"/api/tenants/{tenant}/connections/{connection}", view),
            PutOutcome.Replaced => TypedResults.Ok(view),
            PutOutcome.LimitReached => Problems.LimitReached($"A tenant has at most {TenantLimits.Connections} connections."),
            _ => Problems.NotFound("tenant"),
        };
    }

    public static async Task<Results<Ok<ItemsResponse<ConnectionResponse>>, ProblemHttpResult>> ListAsync(string tenant, HttpContext http, IGrainFactory grains)
    {
        var check = await ApiChecks.RunAsync(http, new Rules { Ids = [("tenant", Ids.IsTenantOrConnection(tenant))], Tenant = tenant });
        if (check.Refused is { } refused)
            return refused;
        var connections = await grains.Tenant(tenant).ListConnectionsAsync();
        return TypedResults.Ok(new ItemsResponse<ConnectionResponse>(
            connections.OrderBy(c => c.Id, StringComparer.Ordinal).Select(ConnectionResponse.From).ToList()));
    }

    public static async Task<Results<Ok<ConnectionResponse>, ProblemHttpResult>> GetAsync(string tenant, string connection, HttpContext http, IGrainFactory grains)
    {
        ConnectionConfig? config = null;
        var check = await ApiChecks.RunAsync(http, Rules(tenant, connection,
            async _ => (config = await grains.Tenant(tenant).GetConnectionAsync(connection)) is not null));
        if (check.Refused is { } refused)
            return refused;
        return TypedResults.Ok(ConnectionResponse.From(config!));
    }

    /// <summary>Asks the provider whether the connection works, without a user (docs/design.md §6 "Connection check").
    /// A failed check is a finding in the 200, not an HTTP error; nothing is created or changed.</summary>
    public static async Task<Results<Ok<ConnectionCheckReport>, ProblemHttpResult>> CheckAsync(
        string tenant, string connection, HttpContext http, IGrainFactory grains, ConnectionChecker checker, BrokerGrainOptions options)
    {
        var tenantGrain = grains.Tenant(tenant);
        ConnectionConfig? config = null;
        var check = await ApiChecks.RunAsync(http, Rules(tenant, connection,
            async owner => (config = (await tenantGrain.GetConnectionWithPolicyAsync(owner.Incarnation, connection))?.Connection) is not null));
        if (check.Refused is { } refused)
            return refused;
        return TypedResults.Ok(await checker.CheckAsync(config!, options.CallbackUrl(tenant), http.RequestAborted));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string tenant, string connection, HttpContext http, IGrainFactory grains)
    {
        var tenantGrain = grains.Tenant(tenant);
        var check = await ApiChecks.RunAsync(http, Rules(tenant, connection, async _ => await tenantGrain.GetConnectionAsync(connection) is not null));
        if (check.Refused is { } refused)
            return refused;
        return await tenantGrain.DeleteConnectionAsync(connection) ? TypedResults.NoContent() : Problems.NotFound("connection");
    }

    private static Rules Rules(string tenant, string connection, Func<TenantRef, Task<bool>> exists) => new()
    {
        Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("connection", Ids.IsTenantOrConnection(connection))],
        Tenant = tenant,
        Resource = new Lookup("connection", exists),
    };

    private static Dictionary<string, string[]> Validate(ConnectionBody body, string connection, ConnectorFactory connectors)
    {
        // The path id is checked on its own (a 400 naming "connection"); here only the body counts.
        var id = Ids.IsTenantOrConnection(connection) ? connection : "placeholder";
        return body.ShapeErrors(connection)
            .Concat(connectors.Validate(body.ToConfig(id)))
            .GroupBy(e => e.Field)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Broker.Grains.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary>The tenant's audit trail (docs/design.md §6 "Events"): newest first, filters combine.</summary>
public static class EventEndpoints
{
    public static IEndpointRouteBuilder MapEventEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/tenants/{tenant}/events", ListAsync).WithTags("Events").WithName("ListEvents");
        return app;
    }

    public static async Task<Results<Ok<EventPage>, ProblemHttpResult>> ListAsync(string tenant, HttpContext http, ITenantEventLog log)
    {
        var (query, invalid) = Read(http.Request.Query);
        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant))],
            Body = new BodyCheck(invalid, false),
            Tenant = tenant,
        });
        if (check.Refused is { } refused)
            return refused;
        var events = await log.ListAsync(check.Tenant!, query!);
        var items = events.Select(e => new EventItem(e.Id.ToString(CultureInfo.InvariantCulture), e.At, e.Type, e.Connection, e.UserId, e.SessionId, e.Detail)).ToList();
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new EventPage(items, items.Count == query!.Limit ? items[^1].Id : null));
    }

    private static (EventQuery? Query, ProblemHttpResult? Invalid) Read(IQueryCollection query)
    {
        string? One(string name) => query[name] is { Count: 1 } value ? value[0] : null;
        if (new[] { "type", "connection", "user", "limit", "before" }.FirstOrDefault(n => query[n].Count > 1) is { } repeated)
            return (null, Problems.Invalid(repeated, "is given more than once."));
        var type = One("type");
        if (type is not null && !EventTypes.All.Contains(type))
            return (null, Problems.Invalid("type", $"must be one of: {string.Join(", ", EventTypes.All.Order(StringComparer.Ordinal))}."));
        var connection = One("connection");
        if (connection is not null && !Ids.IsTenantOrConnection(connection))
            return (null, Problems.Invalid("connection", "must match ^[a-z0-9][a-z0-9-]{1,62}$."));
        var user = One("user");
        if (user is not null && !Ids.IsUser(user))
            return (null, Problems.Invalid("user", "is not a well-formed user id."));
        if (PageRequest.ReadLimit(query, maxLimit: 500, defaultLimit: 100, out var limit) is { } invalidLimit)
            return (null, invalidLimit);
        long? before = null;
        if (One("before") is { } rawBefore)
        {
            if (!long.TryParse(rawBefore, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                return (null, Problems.Invalid("before", "is not an event id (pass the previous page's nextBefore)."));
            before = id;
        }
        return (new EventQuery(type, connection, user, before, limit), null);
    }
}

/// <summary>One event as the API shows it; <c>detail</c> never holds a secret, token or code.</summary>
public sealed record EventItem(string Id, DateTimeOffset At, string Type, string? Connection, string? UserId, string? SessionId, JsonObject Detail);

/// <summary>A page of events, newest first; <see cref="NextBefore"/> (null on the last page) fetches the next.</summary>
public sealed record EventPage(IReadOnlyList<EventItem> Items, string? NextBefore);

using System.Text.Json.Nodes;
using Broker.Grains.Tenants;
using Microsoft.Extensions.Logging;

namespace Broker.Grains.Events;

/// <summary>The event types of docs/design.md §6 "Events".</summary>
public static class EventTypes
{
    public const string LoginSucceeded = "login_succeeded";
    public const string LoginFailed = "login_failed";
    public const string SessionEnded = "session_ended";
    public const string RefreshFailed = "refresh_failed";
    public const string ConnectionChanged = "connection_changed";
    public const string ConnectionDeleted = "connection_deleted";
    public const string ApiKeyCreated = "api_key_created";
    public const string ApiKeyDeleted = "api_key_deleted";
    public const string UserBlocked = "user_blocked";
    public const string UserUnblocked = "user_unblocked";
    public const string IdentityLinked = "identity_linked";
    public const string IdentityUnlinked = "identity_unlinked";
    public const string UserDeleted = "user_deleted";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        LoginSucceeded, LoginFailed, SessionEnded, RefreshFailed, ConnectionChanged, ConnectionDeleted, ApiKeyCreated, ApiKeyDeleted,
        UserBlocked, UserUnblocked, IdentityLinked, IdentityUnlinked, UserDeleted,
    };
}

/// <summary>One entry of a tenant's audit trail. <see cref="Detail"/> never holds a secret, a token or a code.</summary>
public sealed record TenantEvent(long Id, DateTimeOffset At, string Type, string? Connection, string? UserId, string? SessionId, JsonObject Detail);

/// <summary>What to list: newest first, events before <see cref="Before"/> (an id), matching every filter given.</summary>
public sealed record EventQuery(string? Type, string? Connection, string? UserId, long? Before, int Limit);

/// <summary>
/// The tenants' audit trail (docs/design.md §6 "Events"): written as things happen by the grains that do them,
/// read by <c>GET .../events</c>. One life of a tenant sees only its own events. Memory keeps the last
/// 10,000 per tenant; PostgreSQL a table whose rows older than 30 days the housekeeping deletes.
/// </summary>
public interface ITenantEventLog
{
    Task AppendAsync(TenantRef tenant, string type, string? connection, string? userId, string? sessionId, JsonObject? detail = null);

    Task<IReadOnlyList<TenantEvent>> ListAsync(TenantRef tenant, EventQuery query);
}

/// <summary>Writes events without ever failing what they record: the trail is a record, not a gate.</summary>
public static class EventLogExtensions
{
    public static async Task TryAppendAsync(this ITenantEventLog log, ILogger logger, TenantRef tenant, string type,
        string? connection = null, string? userId = null, string? sessionId = null, JsonObject? detail = null)
    {
        try
        {
            await log.AppendAsync(tenant, type, connection, userId, sessionId, detail);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "An event ({Type}) of tenant {Tenant} could not be written", type, tenant.Id);
        }
    }
}

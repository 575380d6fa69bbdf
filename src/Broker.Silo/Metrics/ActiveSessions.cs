using Broker.Grains.Runtime;
using Npgsql;

namespace Broker.Silo.Metrics;

/// <summary>Counts active sessions in storage for <c>broker_sessions_active</c>. It counts the store, not
/// this silo's activations, so every silo reports the cluster-wide number.</summary>
public static class ActiveSessions
{
    // SessionStatus.Active, as the grain's state JSON stores it.
    private const int ActiveStatus = 1;

    public static Func<long> Counter(IServiceProvider services) => services.GetRequiredService<IGrainStateStore>() switch
    {
        MemoryGrainStateStore memory => () => memory.Count("session", IsActive),
        _ => () =>
        {
            using var command = services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
                $"SELECT count(*) FROM grain_state WHERE grain_type = 'session' AND data->>'status' = '{ActiveStatus}'");
            return (long)command.ExecuteScalar()!;
        },
    };

    private static bool IsActive(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty("status", out var status) && status.GetInt32() == ActiveStatus;
    }
}

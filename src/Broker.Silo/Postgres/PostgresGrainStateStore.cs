using System.Globalization;
using Broker.Grains.Runtime;
using Npgsql;
using NpgsqlTypes;

namespace Broker.Silo.Postgres;

/// <summary>Grain state in PostgreSQL. The etag is the row's version; every write is conditional on it.</summary>
public sealed class PostgresGrainStateStore(NpgsqlDataSource dataSource) : IGrainStateStore
{
    public async Task<StoredState?> ReadAsync(GrainId grain, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT data::text, version FROM grain_state WHERE grain_type = $1 AND grain_key = $2");
        command.Parameters.Add(new() { Value = grain.Type });
        command.Parameters.Add(new() { Value = grain.Key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredState(reader.GetString(0), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture))
            : null;
    }

    public async Task<string> WriteAsync(GrainId grain, string json, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        // Insert only if absent, update only if the version is the one read: either way a lost race
        // affects no row and is reported, never applied.
        var sql = expectedEtag is null
            ? """
              INSERT INTO grain_state (grain_type, grain_key, version, data) VALUES ($1, $2, 1, $3)
              ON CONFLICT DO NOTHING RETURNING version
              """
            : """
              UPDATE grain_state SET version = version + 1, data = $3, updated_at = now()
              WHERE grain_type = $1 AND grain_key = $2 AND version = $4 RETURNING version
              """;
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new() { Value = grain.Type });
        command.Parameters.Add(new() { Value = grain.Key });
        command.Parameters.Add(new() { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb });
        if (expectedEtag is not null)
            command.Parameters.Add(new() { Value = ParseEtag(grain, expectedEtag) });
        return await command.ExecuteScalarAsync(cancellationToken) is long version
            ? version.ToString(CultureInfo.InvariantCulture)
            : throw new StateConflictException(grain);
    }

    public async Task DeleteAsync(GrainId grain, string expectedEtag, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "DELETE FROM grain_state WHERE grain_type = $1 AND grain_key = $2 AND version = $3");
        command.Parameters.Add(new() { Value = grain.Type });
        command.Parameters.Add(new() { Value = grain.Key });
        command.Parameters.Add(new() { Value = ParseEtag(grain, expectedEtag) });
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            throw new StateConflictException(grain);
    }

    private static long ParseEtag(GrainId grain, string etag) =>
        long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : throw new StateConflictException(grain); // not an etag this store issued
}

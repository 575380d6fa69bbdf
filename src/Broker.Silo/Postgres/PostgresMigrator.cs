using Npgsql;

namespace Broker.Silo.Postgres;

/// <summary>
/// Applies the versioned SQL scripts embedded from Postgres/Migrations (NNNN_name.sql) in order, each
/// in its own transaction, recording each in broker_schema_migrations. A session-level advisory lock
/// serialises silos that start together, so exactly one applies each script (docs/design.md §2, semantics 5).
/// </summary>
public sealed class PostgresMigrator(NpgsqlDataSource dataSource)
{
    // Any fixed number works; it only has to be the same in every silo and unused by anything else.
    private const long AdvisoryLockKey = 0x42_726F_6B65_72; // "Broker"

    public static IReadOnlyList<(int Version, string Name, string Sql)> Scripts { get; } = LoadScripts();

    public static int LatestVersion => Scripts[^1].Version;

    /// <summary>Applies every script not yet applied; returns the versions it applied.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await Execute(connection, "SELECT pg_advisory_lock(@key)", cancellationToken, ("key", AdvisoryLockKey));
        try
        {
            await Execute(connection, """
                CREATE TABLE IF NOT EXISTS broker_schema_migrations (
                    version    integer     PRIMARY KEY,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken);
            var applied = new List<int>();
            var current = await CurrentVersionAsync(connection, cancellationToken);
            foreach (var (version, name, sql) in Scripts.Where(s => s.Version > current))
            {
                await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                await Execute(connection, sql, cancellationToken);
                await Execute(connection, "INSERT INTO broker_schema_migrations (version, name) VALUES (@v, @n)",
                    cancellationToken, ("v", version), ("n", name));
                await tx.CommitAsync(cancellationToken);
                applied.Add(version);
            }
            return applied;
        }
        finally
        {
            await Execute(connection, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", AdvisoryLockKey));
        }
    }

    /// <summary>The highest applied version, or 0 on an empty database.</summary>
    public async Task<int> CurrentVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await CurrentVersionAsync(connection, cancellationToken);
    }

    private static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT coalesce((SELECT max(version) FROM broker_schema_migrations), 0) WHERE to_regclass('broker_schema_migrations') IS NOT NULL",
            connection);
        return await command.ExecuteScalarAsync(cancellationToken) is int version ? version : 0;
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<(int, string, string)> LoadScripts()
    {
        var assembly = typeof(PostgresMigrator).Assembly;
        const string prefix = "Broker.Silo.Postgres.Migrations.";
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var name = n[prefix.Length..^4];
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return (int.Parse(name[..4], System.Globalization.CultureInfo.InvariantCulture), name, reader.ReadToEnd());
            })
            .OrderBy(s => s.Item1)
            .ToList();
        if (scripts.Count == 0 || scripts.Select(s => s.Item1).Distinct().Count() != scripts.Count)
            throw new InvalidOperationException("Migration scripts are missing or share a version number.");
        return scripts;
    }
}

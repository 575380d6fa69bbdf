using System.Data.Common;
using Npgsql;

namespace Broker.Silo.Postgres;

/// <summary>
/// What the silo adds to <c>ConnectionStrings__Broker</c> unless the string sets it itself. Measured with
/// pg_stat_statements during the login benchmark (bench/README.md): PostgreSQL spent 44% of its time on the
/// state writes and 76% on the state reads planning the same statements again, and every command after a
/// connection came back from the pool was preceded by a DISCARD ALL (ten a login). With both, PostgreSQL
/// used about a third less CPU and logins on PostgreSQL went from 173 to 222 a second (medians of three
/// alternating runs on the development machine).
/// </summary>
public static class PostgresConnectionDefaults
{
    /// <summary>Npgsql prepares a statement once it has run it five times on a connection; the silo runs
    /// about thirty different ones (Orleans' membership, storage and reminder queries, the session index,
    /// housekeeping, the key ring).</summary>
    public const int MaxAutoPrepare = 50;

    public static string Apply(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys
            .Cast<string>().Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()).ToHashSet();
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains("maxautoprepare"))
            builder.MaxAutoPrepare = MaxAutoPrepare;
        // No session state outlives a use of a connection here: no SET, no temporary tables, and the
        // migrator's advisory lock is released before its connection goes back.
        if (!given.Contains("noresetonclose"))
            builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }
}

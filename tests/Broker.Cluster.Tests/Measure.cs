using System.Globalization;
using Npgsql;

namespace Broker.Cluster.Tests;

/// <summary>Small measuring helpers: percentiles, a process's CPU time, the database's transaction count.</summary>
public static class Measure
{
    /// <summary>Nearest-rank percentile of <paramref name="values"/> (0..100); NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> values, double percent)
    {
        if (values.Count == 0)
            return double.NaN;
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>User + system CPU time a live process has used (Linux /proc), or null once it is gone.</summary>
    public static TimeSpan? CpuTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based), i.e. index 11 and 12 here.
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Committed transactions of the database so far (pg_stat_database), for round trips per refresh.</summary>
    public static async Task<long> CommittedTransactionsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        // Other backends publish their counts within about a second (PostgreSQL 15+ cumulative statistics).
        await using var command = new NpgsqlCommand("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public static string Seconds(double seconds) => double.IsNaN(seconds) ? "n/a" : seconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";
}

using BenchmarkDotNet.Attributes;
using Broker.Grains.Runtime;
using Broker.Silo.Postgres;
using Broker.Testing;
using Npgsql;

namespace Broker.Bench;

/// <summary>
/// The PostgreSQL round trips the runtime makes: a grain's state read and conditional write, and a
/// reminder batch claimed and completed. Needs BROKER_TEST_PG (a server where it may create a
/// throwaway database), as the tests do.
/// </summary>
[MemoryDiagnoser]
public class PostgresBenchmarks
{
    private const int Batch = 256;

    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private PostgresGrainStateStore _states = null!;
    private PostgresReminderTable _reminders = null!;
    private readonly GrainId _grain = new("bench", "one");
    private string? _etag;
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = _database.CreateDataSource();
        await new PostgresMigrator(_dataSource).MigrateAsync();
        _states = new PostgresGrainStateStore(_dataSource);
        _reminders = new PostgresReminderTable(_dataSource);
        _etag = await _states.WriteAsync(_grain, """{"count":0}""", null);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>What every turn of a stateful grain does first.</summary>
    [Benchmark(Baseline = true)]
    public Task<StoredState?> StateRead() => _states.ReadAsync(_grain);

    [Benchmark]
    public async Task StateWrite() => _etag = await _states.WriteAsync(_grain, """{"count":1}""", _etag);

    [IterationSetup(Target = nameof(ClaimAndCompleteBatch))]
    public void AddDueReminders()
    {
        _now = _now.AddMinutes(1);
        for (var i = 0; i < Batch; i++)
            _reminders.UpsertAsync(new GrainId("bench", $"r{i}"), "tick", _now, null).GetAwaiter().GetResult();
    }

    /// <summary>One poll's work for a full batch, per reminder: one claim statement, then one completion each.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task ClaimAndCompleteBatch()
    {
        var claimed = await _reminders.ClaimDueAsync("bench-silo", _now, TimeSpan.FromSeconds(10), Batch);
        foreach (var entry in claimed)
            await _reminders.CompleteAsync(entry, "bench-silo", null);
    }
}

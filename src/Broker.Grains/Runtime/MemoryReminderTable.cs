namespace Broker.Grains.Runtime;

/// <summary>Reminder rows in this process's memory, with the same lease rules as the PostgreSQL table.</summary>
public sealed class MemoryReminderTable : IReminderTable
{
    private sealed record Row(ReminderEntry Entry, string? LeaseOwner, DateTimeOffset? LeaseUntil);

    private readonly Dictionary<(GrainId, string), Row> _rows = new();

    public Task UpsertAsync(GrainId grain, string name, DateTimeOffset dueAt, TimeSpan? period, CancellationToken cancellationToken = default)
    {
        lock (_rows)
        {
            var generation = _rows.TryGetValue((grain, name), out var old) ? old.Entry.Generation + 1 : 1;
            _rows[(grain, name)] = new Row(new ReminderEntry(grain, name, dueAt, period, generation), null, null);
        }
        return Task.CompletedTask;
    }

    public Task<ReminderEntry?> ReadAsync(GrainId grain, string name, CancellationToken cancellationToken = default)
    {
        lock (_rows)
            return Task.FromResult(_rows.GetValueOrDefault((grain, name))?.Entry);
    }

    public Task DeleteAsync(GrainId grain, string name, CancellationToken cancellationToken = default)
    {
        lock (_rows)
            _rows.Remove((grain, name));
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ReminderEntry>> ClaimDueAsync(string siloId, DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken = default)
    {
        lock (_rows)
        {
            var claimed = _rows.Values
                .Where(r => r.Entry.DueAt <= now && (r.LeaseUntil is null || r.LeaseUntil <= now))
                .OrderBy(r => r.Entry.DueAt)
                .Take(max)
                .Select(r => r.Entry)
                .ToList();
            foreach (var entry in claimed)
                _rows[(entry.Grain, entry.Name)] = new Row(entry, siloId, now + lease);
            return Task.FromResult<IReadOnlyList<ReminderEntry>>(claimed);
        }
    }

    public Task CompleteAsync(ReminderEntry claimed, string siloId, DateTimeOffset? nextDueAt, CancellationToken cancellationToken = default)
    {
        lock (_rows)
        {
            var key = (claimed.Grain, claimed.Name);
            if (!_rows.TryGetValue(key, out var row) || row.Entry.Generation != claimed.Generation || row.LeaseOwner != siloId)
                return Task.CompletedTask;
            if (nextDueAt is { } next)
                _rows[key] = new Row(row.Entry with { DueAt = next }, null, null);
            else
                _rows.Remove(key);
        }
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string siloId, CancellationToken cancellationToken = default)
    {
        lock (_rows)
        {
            foreach (var (key, row) in _rows.Where(p => p.Value.LeaseOwner == siloId).ToList())
                _rows[key] = row with { LeaseOwner = null, LeaseUntil = null };
        }
        return Task.CompletedTask;
    }
}

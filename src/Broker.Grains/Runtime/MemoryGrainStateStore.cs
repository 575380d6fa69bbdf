namespace Broker.Grains.Runtime;

/// <summary>Grain state in this process's memory: the default store for <c>dotnet run</c> and a
/// reference for the contract tests. State is kept serialized, so no caller shares an object with it.</summary>
public sealed class MemoryGrainStateStore : IGrainStateStore
{
    private readonly Dictionary<GrainId, StoredState> _rows = new();
    private long _lastEtag;

    public Task<StoredState?> ReadAsync(GrainId grain, CancellationToken cancellationToken = default)
    {
        lock (_rows)
            return Task.FromResult(_rows.GetValueOrDefault(grain));
    }

    public Task<string> WriteAsync(GrainId grain, string json, string? expectedEtag, CancellationToken cancellationToken = default)
    {
        lock (_rows)
        {
            if (_rows.GetValueOrDefault(grain)?.Etag != expectedEtag)
                throw new StateConflictException(grain);
            var etag = (++_lastEtag).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _rows[grain] = new StoredState(json, etag);
            return Task.FromResult(etag);
        }
    }

    /// <summary>How many grains of a type have state matching <paramref name="predicate"/> (for gauges).</summary>
    public int Count(string grainType, Func<string, bool> predicate)
    {
        lock (_rows)
            return _rows.Count(r => r.Key.Type == grainType && predicate(r.Value.Json));
    }

    public Task DeleteAsync(GrainId grain, string expectedEtag, CancellationToken cancellationToken = default)
    {
        lock (_rows)
        {
            if (_rows.GetValueOrDefault(grain)?.Etag != expectedEtag)
                throw new StateConflictException(grain);
            _rows.Remove(grain);
            return Task.CompletedTask;
        }
    }
}

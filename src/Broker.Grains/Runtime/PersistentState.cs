using System.Text.Json;

namespace Broker.Grains.Runtime;

/// <summary>The durable state of one grain. The runtime reads it at the start of every turn, so a turn
/// always starts from what storage holds; <see cref="WriteStateAsync"/> writes conditionally on the etag
/// of that read (DESIGN.md §2, semantics 2).</summary>
public sealed class PersistentState<TState> : IPersistentState where TState : class, new()
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly GrainId _grain;
    private readonly IGrainStateStore _store;

    internal PersistentState(GrainId grain, IGrainStateStore store)
    {
        _grain = grain;
        _store = store;
    }

    public TState State { get; set; } = new();

    /// <summary>The etag of the version this activation last read or wrote; null when none is stored.</summary>
    public string? Etag { get; private set; }

    public bool RecordExists => Etag is not null;

    public async Task ReadStateAsync(CancellationToken cancellationToken = default)
    {
        var stored = await _store.ReadAsync(_grain, cancellationToken);
        State = stored is null ? new TState() : JsonSerializer.Deserialize<TState>(stored.Json, Json) ?? new TState();
        Etag = stored?.Etag;
    }

    /// <exception cref="StateConflictException">Another silo wrote this grain since it was read.</exception>
    public async Task WriteStateAsync(CancellationToken cancellationToken = default) =>
        Etag = await _store.WriteAsync(_grain, JsonSerializer.Serialize(State, Json), Etag, cancellationToken);

    /// <exception cref="StateConflictException">Another silo wrote this grain since it was read.</exception>
    public async Task ClearStateAsync(CancellationToken cancellationToken = default)
    {
        if (Etag is not null)
            await _store.DeleteAsync(_grain, Etag, cancellationToken);
        State = new TState();
        Etag = null;
    }
}

/// <summary>What the runtime needs of a state to refresh it at the start of a turn.</summary>
internal interface IPersistentState
{
    Task ReadStateAsync(CancellationToken cancellationToken);
}

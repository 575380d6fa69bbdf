namespace Broker.Grains.Runtime;

/// <summary>A grain's persisted state as the store holds it: serialized JSON plus the etag of that version.</summary>
public sealed record StoredState(string Json, string Etag);

/// <summary>
/// Durable grain state with optimistic concurrency. Every write names the etag it read; a write
/// whose etag is no longer current throws <see cref="StateConflictException"/> and changes nothing,
/// which is how two silos holding the same grain are kept from overwriting each other.
/// </summary>
public interface IGrainStateStore
{
    /// <summary>The current state, or null when the grain has none.</summary>
    Task<StoredState?> ReadAsync(GrainId grain, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="json"/> if the stored etag still equals <paramref name="expectedEtag"/>
    /// (null: only if no state exists yet) and returns the new etag.
    /// </summary>
    /// <exception cref="StateConflictException">Another writer got there first.</exception>
    Task<string> WriteAsync(GrainId grain, string json, string? expectedEtag, CancellationToken cancellationToken = default);

    /// <summary>Deletes the state if its etag still equals <paramref name="expectedEtag"/>.</summary>
    /// <exception cref="StateConflictException">The state changed or vanished since it was read.</exception>
    Task DeleteAsync(GrainId grain, string expectedEtag, CancellationToken cancellationToken = default);
}

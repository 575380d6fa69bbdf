namespace Broker.Grains.Runtime;

/// <summary>A durable reminder row. <see cref="Generation"/> changes on every register/update, so a
/// delivery that completes after the grain re-registered the reminder cannot clobber the new one.</summary>
public sealed record ReminderEntry(GrainId Grain, string Name, DateTimeOffset DueAt, TimeSpan? Period, long Generation);

/// <summary>
/// The durable reminder rows every silo shares. Due rows are claimed with a lease; a claim that is
/// never completed (the silo died) becomes claimable again when its lease runs out, so delivery is at
/// least once. Times come from the caller's clock so that the runtime's fake clock drives tests.
/// </summary>
public interface IReminderTable
{
    /// <summary>Creates or replaces a reminder; replacing clears any lease and bumps the generation.</summary>
    Task UpsertAsync(GrainId grain, string name, DateTimeOffset dueAt, TimeSpan? period, CancellationToken cancellationToken = default);

    Task<ReminderEntry?> ReadAsync(GrainId grain, string name, CancellationToken cancellationToken = default);

    Task DeleteAsync(GrainId grain, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Leases up to <paramref name="max"/> rows that are due at <paramref name="now"/> and not leased
    /// (or whose lease ran out) to <paramref name="siloId"/> until <c>now + lease</c>, earliest first.
    /// Concurrent callers never receive the same row while its lease holds.
    /// </summary>
    Task<IReadOnlyList<ReminderEntry>> ClaimDueAsync(string siloId, DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends a delivered claim: deletes the row (<paramref name="nextDueAt"/> null) or moves it to its
    /// next due time and clears the lease. Does nothing if the row was re-registered since the claim
    /// or the lease passed to another silo.
    /// </summary>
    Task CompleteAsync(ReminderEntry claimed, string siloId, DateTimeOffset? nextDueAt, CancellationToken cancellationToken = default);

    /// <summary>Hands back every lease <paramref name="siloId"/> holds (graceful stop).</summary>
    Task ReleaseAsync(string siloId, CancellationToken cancellationToken = default);
}

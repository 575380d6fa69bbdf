namespace Broker.Grains.Runtime;

/// <summary>
/// A conditional write lost a race: the state was changed by someone else since this activation read it.
/// The write did not happen. Callers retry the whole turn (the next turn reads fresh state) or give up.
/// </summary>
public sealed class StateConflictException(GrainId grain)
    : Exception($"The state of grain {grain} was changed by another writer.")
{
    public GrainId Grain { get; } = grain;
}

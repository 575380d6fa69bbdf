namespace Broker.Grains.Runtime;

/// <summary>The identity of a grain: its registered type name and its string key.</summary>
/// <remarks>Both parts are persisted (state rows, reminder rows), so a type name, once chosen, is kept.</remarks>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";
}

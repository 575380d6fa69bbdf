namespace Broker.Silo.Hosting;

/// <summary>A configuration value is missing or wrong. The message is one line that names the key, and
/// is all the silo prints before it exits.</summary>
public sealed class ConfigurationException(string key, string problem)
    : Exception($"Configuration error: {key} (environment: {key.Replace(":", "__", StringComparison.Ordinal)}) {problem}")
{
    public string Key { get; } = key;
}

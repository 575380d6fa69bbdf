namespace Broker.Testing.Processes;

/// <summary>
/// How a test silo is run. By default as the test's own user from the test's output directory;
/// <see cref="Uid"/> runs it as that user instead (the caller must be root), with <c>HOME</c> pointing
/// nowhere, as the container image does.
/// </summary>
public sealed record SiloLaunch(string? Directory = null, int? Uid = null);

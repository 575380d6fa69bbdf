namespace Broker.Testing;

/// <summary>The checkout the tests were built in: the directory above them that holds Broker.sln.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    /// <summary>The build configuration the tests run in (scripts/test.sh builds Release), for a command that
    /// runs a project of the checkout without building it again.</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{System.IO.Path.DirectorySeparatorChar}Release{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Broker.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No Broker.sln above {AppContext.BaseDirectory}.");
    }
}

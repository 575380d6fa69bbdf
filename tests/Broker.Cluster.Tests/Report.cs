using Xunit.Abstractions;

namespace Broker.Cluster.Tests;

/// <summary>Figures go to the test's output, the console, and the file named by BROKER_TEST_FIGURES,
/// which scripts/test.sh prints (dotnet test shows no output of a passing test).</summary>
public static class Report
{
    private static readonly Lock FileLock = new();

    public static void Line(ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        Console.WriteLine($"[cluster] {line}");
        if (Environment.GetEnvironmentVariable("BROKER_TEST_FIGURES") is { Length: > 0 } path)
            lock (FileLock)
                File.AppendAllText(path, $"[cluster] {line}{Environment.NewLine}");
    }
}

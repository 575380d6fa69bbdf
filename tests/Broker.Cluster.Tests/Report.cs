using Xunit.Abstractions;

namespace Broker.Cluster.Tests;

/// <summary>Figures go both to the test's output and to the console, so they show in scripts/test.sh's log.</summary>
public static class Report
{
    public static void Line(ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        Console.WriteLine($"[cluster] {line}");
    }
}

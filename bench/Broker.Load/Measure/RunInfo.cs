using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Broker.Load.Rig;

namespace Broker.Load.Measure;

/// <summary>What every JSON line says about where and what was measured: the machine, the commit, the date.</summary>
public static class RunInfo
{
    public static JsonObject Machine() => new()
    {
        ["cores"] = Environment.ProcessorCount,
        ["cpu"] = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() : null,
        ["memoryGiB"] = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024), 1),
        ["kernel"] = Run("uname", "-r"),
        ["os"] = RuntimeInformation.OSDescription,
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
    };

    /// <summary>The short commit of the checkout the program was built in, with "+dirty" when it has changes.</summary>
    public static string? Commit()
    {
        if (LoadRig.RepoRoot() is not { } root)
            return null;
        var commit = Run("git", "-C", root, "rev-parse", "--short", "HEAD");
        var dirty = Run("git", "-C", root, "status", "--porcelain", "--untracked-files=no");
        return commit is null ? null : string.IsNullOrEmpty(dirty) ? commit : commit + "+dirty";
    }

    private static string? Run(string file, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in args)
                info.ArgumentList.Add(arg);
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Broker.Testing.Processes;

/// <summary>
/// A Node.js project of the test suite (a third-party server or client, pinned in its package.json): installs it with
/// <c>npm ci</c> when node_modules is missing or holds another version of its main package, and runs its scripts.
/// A lock file serialises test processes; a semaphore per project, tests in this one.
/// </summary>
public static class NodeProject
{
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(5);
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public static async Task EnsureInstalledAsync(string projectDirectory, string package, CancellationToken cancellationToken = default)
    {
        if (IsInstalled(projectDirectory, package))
            return;
        var gate = Gates.GetOrAdd(projectDirectory, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            // One lock per checkout and project, outside it (nothing to ignore in git).
            var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(projectDirectory)))[..16];
            using var fileLock = await AcquireFileLockAsync(Path.Combine(Path.GetTempPath(), $"broker-node-{key}.lock"), cancellationToken);
            if (IsInstalled(projectDirectory, package))
                return;
            var (exitCode, output, errors) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], projectDirectory, NpmTimeout, cancellationToken);
            if (exitCode != 0 || !IsInstalled(projectDirectory, package))
                throw new InvalidOperationException($"npm ci in {projectDirectory} failed with exit code {exitCode}.\nstdout:\n{output}\nstderr:\n{errors}");
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Runs a program to its end (killed after <paramref name="timeout"/>): its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(
        string program, IEnumerable<string> arguments, string directory, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Cannot run '{program}' (is Node.js installed and on PATH?): {e.Message}", e);
        }
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} in {directory} took longer than {timeout.TotalMinutes:0.#} min.\nstdout:\n{await output}\nstderr:\n{await errors}");
        }
        return (process.ExitCode, await output, await errors);
    }

    private static bool IsInstalled(string projectDirectory, string package)
    {
        // npm writes node_modules/.package-lock.json when an install has finished.
        var installed = Path.Combine(projectDirectory, "node_modules", package, "package.json");
        if (!File.Exists(Path.Combine(projectDirectory, "node_modules", ".package-lock.json")) || !File.Exists(installed))
            return false;
        using var pinned = JsonDocument.Parse(File.ReadAllText(Path.Combine(projectDirectory, "package.json")));
        using var actual = JsonDocument.Parse(File.ReadAllText(installed));
        return pinned.RootElement.GetProperty("dependencies").GetProperty(package).GetString() == actual.RootElement.GetProperty("version").GetString();
    }

    private static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + NpmTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }
    }
}

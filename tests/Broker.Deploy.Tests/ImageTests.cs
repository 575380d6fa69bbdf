using System.Text.RegularExpressions;

namespace Broker.Deploy.Tests;

/// <summary>
/// The Dockerfile the silo image is built from, held to what the manifests expect of that image: the
/// user the security context names, the port the probes and Service use, an entrypoint the migration
/// Job can pass `migrate` to. (No image is built here: this machine has no container engine.)
/// </summary>
public sealed partial class ImageTests
{
    private static readonly string Dockerfile = File.ReadAllText(Path.Combine(Repo.Root, "Dockerfile"));

    [Fact]
    public void Base_images_are_pinned_to_the_projects_dotnet_version()
    {
        var bases = FromLine().Matches(Dockerfile).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, bases.Count);
        foreach (var image in bases)
        {
            Assert.True(WorkloadTests.IsPinned(image), $"FROM {image}: pin a tag other than latest");
            // net10.0, as Directory.Build.props targets: the tag names a 10.0 SDK or runtime.
            Assert.Matches(@":10\.0\.\d+$", image);
        }
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:", bases[0]);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:", bases[1]);
        Assert.Contains("<TargetFramework>net10.0</TargetFramework>", File.ReadAllText(Path.Combine(Repo.Root, "Directory.Build.props")));
    }

    [Theory]
    [MemberData(nameof(WorkloadTests.Renders), MemberType = typeof(WorkloadTests))]
    public void The_image_runs_as_the_user_and_on_the_port_the_manifests_expect(string overlay)
    {
        var rendered = Rendered.Of(overlay);
        var user = UserLine().Match(Dockerfile);
        Assert.True(user.Success, "the image sets no numeric USER uid:gid (runAsNonRoot needs a numeric user)");
        foreach (var workload in new[] { rendered.SiloDeployment, rendered.MigrationJob })
        {
            var pod = workload.Path("spec.template.spec");
            var container = Rendered.SiloContainer(workload);
            Assert.Equal(long.Parse(user.Groups[1].Value), container.Int("securityContext.runAsUser") ?? pod.Int("securityContext.runAsUser"));
            Assert.Equal(long.Parse(user.Groups[2].Value), container.Int("securityContext.runAsGroup") ?? pod.Int("securityContext.runAsGroup"));
        }

        var port = ExposeLine().Match(Dockerfile);
        Assert.True(port.Success, "the image exposes no port");
        var containerPorts = Rendered.SiloContainer(rendered.SiloDeployment).Array("ports").Select(p => p.Int("containerPort")).ToList();
        Assert.Contains(long.Parse(port.Groups[1].Value), containerPorts);
        Assert.Contains($"ASPNETCORE_URLS=http://+:{port.Groups[1].Value} ", Dockerfile);
        Assert.Equal($"http://+:{port.Groups[1].Value}", rendered.SiloSettings()["ASPNETCORE_URLS"]);
    }

    [Fact]
    public void The_entrypoint_runs_the_published_silo_and_takes_the_jobs_arguments()
    {
        // Exec form, so that the Job's `args: [migrate]` are appended and SIGTERM reaches the silo itself.
        Assert.Contains("""ENTRYPOINT ["dotnet", "Broker.Silo.dll"]""", Dockerfile);
        Assert.Contains("dotnet publish src/Broker.Silo/Broker.Silo.csproj", Dockerfile);
        Assert.True(File.Exists(Path.Combine(Repo.Root, "src", "Broker.Silo", "Broker.Silo.csproj")));
        foreach (var copied in CopyLine().Matches(Dockerfile).SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            Assert.True(File.Exists(Path.Combine(Repo.Root, copied)) || Directory.Exists(Path.Combine(Repo.Root, copied)), $"COPY {copied}: no such path");
    }

    [Fact]
    public void The_build_context_leaves_out_build_output()
    {
        var ignored = File.ReadAllLines(Path.Combine(Repo.Root, ".dockerignore")).Select(l => l.Trim()).ToList();
        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
    }

    [GeneratedRegex(@"(?m)^FROM\s+(\S+)")]
    private static partial Regex FromLine();

    [GeneratedRegex(@"(?m)^USER\s+(\d+):(\d+)\s*$")]
    private static partial Regex UserLine();

    [GeneratedRegex(@"(?m)^EXPOSE\s+(\d+)\s*$")]
    private static partial Regex ExposeLine();

    /// <summary>The sources of a COPY from the build context (not <c>--from=</c> a stage), without the destination.</summary>
    [GeneratedRegex(@"(?m)^COPY\s+(?!--from)((?:\S+\s+)+?)\S+\s*$")]
    private static partial Regex CopyLine();
}

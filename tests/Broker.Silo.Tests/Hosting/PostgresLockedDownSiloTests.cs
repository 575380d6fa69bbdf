using System.Net;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Broker.Silo.Tests.EndToEnd;
using Broker.Testing;
using Broker.Testing.Processes;
using Broker.Testing.Upstreams;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;

namespace Broker.Silo.Tests.Hosting;

/// <summary>
/// The silo as deploy/k8s runs it, without the container: as uid 10001 (runAsNonRoot), from files it
/// cannot write, with HOME pointing nowhere and only /tmp writable (readOnlyRootFilesystem plus the /tmp
/// emptyDir), the Data Protection key ring in a read-only directory (the Secret volume), on PostgreSQL.
/// A login, a token read and a graceful stop must all work like that.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed partial class PostgresLockedDownSiloTests : IDisposable
{
    private const int Uid = 10001;
    private const string Tenant = "locked";

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("broker-locked-down-");

    [Fact]
    public async Task As_uid_10001_with_nothing_writable_but_tmp_and_a_read_only_key_ring_the_silo_serves_a_login_and_stops_cleanly()
    {
        Assert.True(Environment.UserName == "root", "this test switches to uid 10001, which needs root (scripts/test.sh runs as root)");
        // Readable by everyone, writable by root only: what uid 10001 sees of a read-only root filesystem.
        _root.UnixFileMode = ReadableByAll;
        var app = Copy(new DirectoryInfo(AppContext.BaseDirectory), _root.CreateSubdirectory("app"));
        var keys = _root.CreateSubdirectory("keys");
        keys.UnixFileMode = ReadableByAll;
        DataProtectionProvider.Create(keys).CreateProtector("key ring made before the silo starts").Protect("x");
        // As the Secret volume mounts it: defaultMode 0440, group fsGroup (10001), owner root.
        foreach (var file in keys.EnumerateFiles())
        {
            Assert.Equal(0, Chown(file.FullName, 0, Uid));
            file.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.GroupRead;
        }
        var keyFiles = KeyFiles(keys);
        Assert.Single(keyFiles);

        await using var database = await TestDatabase.CreateAsync();
        await using var provider = await FakeOidcProvider.StartAsync(TimeProvider.System);
        await using var broker = await BrokerUnderTest.StartAsync(BrokerUnderTest.ReservePort(), Tenant, new SiloLaunch(app.FullName, Uid), new Dictionary<string, string?>
        {
            ["Broker__Storage"] = "Postgres",
            ["ConnectionStrings__Broker"] = database.ConnectionString,
            ["Broker__DataProtection__KeysDirectory"] = keys.FullName,
            ["Broker__DataProtection__MasterKey"] = null,
        });

        Assert.Matches($@"(?m)^Uid:\s+{Uid}\s+{Uid}\s+{Uid}\s+{Uid}$", await File.ReadAllTextAsync($"/proc/{broker.Silo.Id}/status"));
        using (var ready = await broker.Silo.CreateClient().GetAsync("/readyz"))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        // The client secret and the upstream tokens are sealed with the read-only ring, and opened again.
        var connection = provider.OidcConnection();
        using (var put = await broker.SendAsync(HttpMethod.Put, $"/api/tenants/{Tenant}/connections/main", new
        {
            type = "oidc",
            clientId = connection.ClientId,
            clientSecret = connection.ClientSecret,
            issuer = connection.Issuer,
            scopes = connection.Scopes,
        }))
            Assert.True(put.StatusCode == HttpStatusCode.Created, $"PUT connection: {(int)put.StatusCode}\n{broker.Silo.StandardOutput}");
        var session = await broker.LogInAsync(async authorize =>
            new Uri(QueryHelpers.AddQueryString(broker.CallbackUrl, (await provider.FollowAuthorizeAsync(authorize))!)));
        var token = await broker.JsonAsync(HttpMethod.Get, $"/api/tenants/{Tenant}/sessions/{session}/token");
        Assert.False(string.IsNullOrEmpty(token["accessToken"]!.GetValue<string>()));
        Assert.True(token["expiresAt"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow);
        Assert.Single(provider.TokenLog, t => t.Grant == "authorization_code");

        broker.Silo.SendSigterm();
        await broker.Silo.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, broker.Silo.ExitCode);
        Assert.Equal(keyFiles, KeyFiles(keys));
        var logs = broker.Silo.StandardOutput + broker.Silo.StandardError;
        Assert.DoesNotMatch(TroubleLine(), logs);
    }

    public void Dispose() => _root.Delete(recursive: true);

    private const UnixFileMode ReadableByAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static DirectoryInfo Copy(DirectoryInfo from, DirectoryInfo to)
    {
        to.UnixFileMode = ReadableByAll;
        foreach (var file in from.EnumerateFiles())
            file.CopyTo(Path.Combine(to.FullName, file.Name)).UnixFileMode = file.UnixFileMode | UnixFileMode.OtherRead;
        foreach (var directory in from.EnumerateDirectories())
            Copy(directory, to.CreateSubdirectory(directory.Name));
        return to;
    }

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown(string path, int owner, int group);

    private static List<string> KeyFiles(DirectoryInfo keys) =>
        [.. keys.EnumerateFiles().Select(f => $"{f.Name} {f.Length} {f.LastWriteTimeUtc:O}").Order()];

    /// <summary>An error or critical log line, a warning from Data Protection (a ring it could not read or
    /// write), or an access denied anywhere: signs that the silo wanted to write where it may not.</summary>
    [GeneratedRegex("\"LogLevel\":\"(Error|Critical)\"|\"LogLevel\":\"Warning\",\"Category\":\"Microsoft\\.AspNetCore\\.DataProtection|UnauthorizedAccessException|Permission denied|Read-only file system")]
    private static partial Regex TroubleLine();
}

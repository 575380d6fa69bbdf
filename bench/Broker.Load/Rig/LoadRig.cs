using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Broker.Load.Rig;

/// <summary>One silo process of the run and where it listens.</summary>
public sealed record Silo(ChildProcess Process, Uri Url);

/// <summary>
/// Everything a run starts on loopback: a directory of its own (logs, the Data Protection key ring), the
/// database, the fast upstream and the silos. Disposing it stops them all and removes the directory.
/// </summary>
public sealed class LoadRig : IAsyncDisposable
{
    private readonly LoadOptions _options;
    private readonly int[] _httpPorts;
    private readonly int[] _siloPorts;
    private int _siloGeneration;

    private LoadRig(LoadOptions options)
    {
        _options = options;
        WorkDirectory = Directory.CreateTempSubdirectory("broker-load-").FullName;
        KeysDirectory = Directory.CreateDirectory(Path.Combine(WorkDirectory, "keys")).FullName;
        _httpPorts = [.. Enumerable.Range(0, 2).Select(_ => FreePort())];
        _siloPorts = [.. Enumerable.Range(0, 2).Select(_ => FreePort())];
    }

    public string WorkDirectory { get; }

    /// <summary>The Data Protection key ring every silo (and the seeder) reads: Broker__DataProtection__KeysDirectory.</summary>
    public string KeysDirectory { get; }

    public Postgres? Postgres { get; private set; }

    public ChildProcess? Upstream { get; private set; }

    public string UpstreamUrl { get; private set; } = "";

    /// <summary>The key the upstream seals its codes and tokens with, shared so that seeded refresh tokens are good.</summary>
    public byte[] UpstreamKey { get; } = RandomNumberGenerator.GetBytes(32);

    public string ClientSecret { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    public string AdminToken { get; } = "load-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    public List<Silo> Silos { get; } = [];

    /// <summary>What browsers are sent to: the first silo (the upstream redirects there; the client re-targets).</summary>
    public Uri PublicBaseUrl => new($"http://127.0.0.1:{_httpPorts[0]}/");

    public static async Task<LoadRig> CreateAsync(LoadOptions options, CancellationToken cancellationToken)
    {
        var rig = new LoadRig(options);
        try
        {
            if (options.Storage == Storage.Postgres)
            {
                Console.Error.WriteLine("# starting PostgreSQL");
                rig.Postgres = await Rig.Postgres.StartAsync(options.Postgres, RepoRoot(), cancellationToken);
            }
            return rig;
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts Broker.Load.Upstream in <paramref name="mode"/> (oidc or bare) and waits until it listens.</summary>
    public async Task StartUpstreamAsync(string mode, CancellationToken cancellationToken)
    {
        var port = FreePort();
        Upstream = ChildProcess.StartDotnet("upstream", Beside("Broker.Load.Upstream.dll"), [mode, port.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string?>
            {
                ["BROKER_LOAD_UPSTREAM_KEY"] = Convert.ToBase64String(UpstreamKey),
                ["BROKER_LOAD_CLIENT_SECRET"] = ClientSecret,
            },
            Path.Combine(WorkDirectory, "upstream.log"), line => line.StartsWith("listening on ", StringComparison.Ordinal));
        await Upstream.WaitReadyAsync(TimeSpan.FromSeconds(30), cancellationToken);
        UpstreamUrl = $"http://127.0.0.1:{port}";
    }

    /// <summary>Starts <paramref name="count"/> silos (the built Broker.Silo.dll, Production) and waits until each is ready.</summary>
    public async Task StartSilosAsync(int count, CancellationToken cancellationToken, IDictionary<string, string?>? extra = null)
    {
        _siloGeneration++;
        for (var i = 0; i < count; i++)
        {
            var url = new Uri($"http://127.0.0.1:{_httpPorts[i]}");
            var environment = SiloEnvironment(i, url);
            foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
                environment[key] = value;
            var process = ChildProcess.StartDotnet($"silo{i}", Beside("Broker.Silo.dll"), [], environment,
                Path.Combine(WorkDirectory, $"silo{i}-{_siloGeneration}.log"));
            Silos.Add(new Silo(process, url));
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var silo in Silos)
            await WaitReadyAsync(http, silo, cancellationToken);
    }

    /// <summary>Stops the silos the way Kubernetes does (SIGTERM: they leave the cluster), then forgets them.</summary>
    public async Task StopSilosAsync()
    {
        await Task.WhenAll(Silos.Select(s => s.Process.DisposeAsync().AsTask()));
        Silos.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await StopSilosAsync();
        if (Upstream is not null)
            await Upstream.DisposeAsync();
        if (Postgres is not null)
            await Postgres.DisposeAsync();
        if (_options.KeepLogs)
            Console.Error.WriteLine($"# logs kept in {WorkDirectory}");
        else
            Directory.Delete(WorkDirectory, recursive: true);
    }

    /// <summary>A CPU meter over the silos, the upstream, PostgreSQL (when this run started it) and this process.</summary>
    public Measure.CpuMeter CpuMeter()
    {
        var processes = Silos.Select((s, i) => (Name: $"silo{i}", s.Process.Pid)).ToDictionary(p => p.Name, p => p.Pid);
        if (Upstream is not null)
            processes["upstream"] = Upstream.Pid;
        return new Measure.CpuMeter(processes, Postgres?.ServerPid);
    }

    /// <summary>What each silo of the current start logged (a silo that logs errors under load is spending its time there).</summary>
    public JsonObject SiloLogs() => new(Silos.Select((s, i) => KeyValuePair.Create($"silo{i}", (JsonNode?)s.Process.LogCounts())));

    /// <summary>The last resort when the process is being killed: no waiting for anyone.</summary>
    public void StopNow()
    {
        ChildProcess.KillAll();
        Postgres?.StopNow();
    }

    /// <summary>The checkout this program was built in (where scripts/pg.sh is), or null.</summary>
    public static string? RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "pg.sh")))
                return dir.FullName;
        }
        return null;
    }

    private Dictionary<string, string?> SiloEnvironment(int index, Uri url)
    {
        // A clean environment for the broker's own keys: nothing from the caller's shell leaks in.
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("Broker__", StringComparison.Ordinal) || k.StartsWith("ConnectionStrings__", StringComparison.Ordinal))
            .ToDictionary(k => k, _ => (string?)null);
        environment["DOTNET_ENVIRONMENT"] = null;
        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        environment["ASPNETCORE_URLS"] = url.ToString();
        environment["Broker__PublicBaseUrl"] = PublicBaseUrl.ToString();
        environment["Broker__AdminToken"] = AdminToken;
        environment["Broker__RateLimit__PermitsPerMinute"] = "0";
        environment["Broker__RateLimit__ExchangePermitsPerMinute"] = "0";
        environment["Broker__AllowHttpUpstreams"] = "true";
        environment["Broker__Cluster__SiloPort"] = _siloPorts[index].ToString(CultureInfo.InvariantCulture);
        environment["Broker__Cluster__SiloName"] = $"load-silo{index}";
        environment["Broker__DataProtection__KeysDirectory"] = KeysDirectory;
        environment["Broker__Shutdown__DrainDelaySeconds"] = "0";
        if (Postgres is not null)
        {
            environment["Broker__Storage"] = "Postgres";
            environment["ConnectionStrings__Broker"] = Postgres.ConnectionString;
        }
        return environment;
    }

    private static async Task WaitReadyAsync(HttpClient http, Silo silo, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (silo.Process.HasExited)
                throw new InvalidOperationException($"{silo.Process.Name} exited while starting; see its log");
            try
            {
                using var response = await http.GetAsync(new Uri(silo.Url, "/readyz"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(250, cancellationToken);
        }
        throw new InvalidOperationException($"{silo.Process.Name} was not ready within 120 s; see its log");
    }

    private static string Beside(string file) => Path.Combine(AppContext.BaseDirectory, file);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

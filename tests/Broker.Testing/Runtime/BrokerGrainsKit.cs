using System.Text.Json.Nodes;
using Broker.Grains;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Logins;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Broker.Testing.Upstreams;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orleans.Reminders;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Broker.Testing.Runtime;

/// <summary>
/// The broker's grains on Orleans' in-process test cluster, with one fake clock for the grains, their
/// timers and their reminders, and a fake OIDC provider as the upstream. One kit per test: nothing
/// is shared between tests. Storage is Orleans' memory storage unless the test passes its own (the
/// PostgreSQL tests pass the ADO.NET providers on the project's schema).
/// </summary>
public sealed class BrokerGrainsKit : IAsyncDisposable
{
    public const string Connection = "oidc";

    private readonly InProcessTestCluster _cluster;
    private readonly List<InProcessTestCluster> _others = [];
    private Setup _setup = null!;
    private readonly List<string> _sessions = [];

    private BrokerGrainsKit(FakeTimeProvider clock, FakeOidcProvider provider, InProcessTestCluster cluster, MemorySessionIndex index)
    {
        Clock = clock;
        Provider = provider;
        _cluster = cluster;
        Index = index;
    }

    public FakeTimeProvider Clock { get; }

    public FakeOidcProvider Provider { get; }

    /// <summary>Shared by every silo of the kit, as PostgreSQL's table is.</summary>
    public MemorySessionIndex Index { get; }

    public IGrainFactory Grains => _cluster.Client;

    public InProcessTestCluster Cluster => _cluster;

    public string TenantId { get; } = "t-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The test tenant's current life, what the grains' tenant-scoped calls take.</summary>
    public TenantRef Tenant { get; private set; } = null!;

    /// <param name="silos">How many silos the cluster starts with.</param>
    /// <param name="storage">Grain storage and reminders; memory ones when null.</param>
    /// <param name="services">More services for every silo (e.g. PostgreSQL's session index).</param>
    /// <param name="wakeupsFollowClock">False: grain timers and reminders stay on a clock that never moves, while the
    /// grains' own clock (what they compare expiries with) moves as <see cref="Clock"/> does; for tests of what a call
    /// does when its work is due and nothing woke the session yet (a late timer, a reminder not yet delivered).</param>
    /// <param name="upstreamCallTimeout">How long a proxied call may take (the tests of the cap set it short).</param>
    public static async Task<BrokerGrainsKit> StartAsync(
        int silos = 1, Action<ISiloBuilder>? storage = null, Action<IServiceCollection>? services = null, bool wakeupsFollowClock = true,
        TimeSpan? upstreamCallTimeout = null)
    {
        // A real "now", so the fake's id_tokens pass validation; tests move it forward.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var provider = await FakeOidcProvider.StartAsync(clock);
        var setup = new Setup(clock, provider, new EphemeralDataProtectionProvider(), new MemorySessionIndex(), new MemoryUserDirectory(), storage, services, wakeupsFollowClock, upstreamCallTimeout ?? Patience,
            "broker-" + Guid.NewGuid().ToString("N")[..8]);
        var kit = new BrokerGrainsKit(clock, provider, await setup.DeployAsync(silos), setup.Index) { _setup = setup };
        var tenant = kit.Grains.Tenant(kit.TenantId);
        await tenant.CreateAsync("Test", ["https://app.example/done"]);
        await tenant.PutConnectionAsync(provider.OidcConnection() with { Id = Connection });
        kit.Tenant = (await tenant.GetAsync())!.Ref;
        return kit;
    }

    /// <summary>
    /// A second cluster over the same storage, service id, key ring, clock and provider that does not
    /// know the first: a grain called through both has an activation in each, as during a membership
    /// change or a partition (docs/design.md §2). Only storage etags stand between the two; useful with
    /// PostgreSQL storage, where both clusters read and write the same rows.
    /// </summary>
    public async Task<IGrainFactory> StartSplitBrainClusterAsync()
    {
        var other = await _setup.DeployAsync(1);
        _others.Add(other);
        return other.Client;
    }

    // How long a call to the fake provider may take before it counts as failed: long, since a test asserts what
    // happens, not how fast, and a loaded run (three test runs and builds at once) took over 5 s for one code
    // exchange. Tests of timeouts make their own hangs end by shorter bounds.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>What every cluster of one kit shares.</summary>
    private sealed record Setup(
        FakeTimeProvider Clock, FakeOidcProvider Provider, IDataProtectionProvider Keys, MemorySessionIndex Index, MemoryUserDirectory Users,
        Action<ISiloBuilder>? Storage, Action<IServiceCollection>? Services, bool WakeupsFollowClock, TimeSpan UpstreamCallTimeout, string ServiceId)
    {
        public async Task<InProcessTestCluster> DeployAsync(int silos)
        {
            var builder = new InProcessTestClusterBuilder((short)silos);
            builder.Options.ConfigureFileLogging = false;
            builder.Options.ServiceId = ServiceId;
            builder.ConfigureSiloHost((_, host) =>
            {
                host.Logging.SetMinimumLevel(LogLevel.Warning);
                // The grains, their timers and their reminders on the fake clock; Orleans' own machinery
                // (messaging, membership, collection) on real time, or it would stand still.
                host.Services.AddSingleton<TimeProvider>(Clock);
                host.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
                var wakeupClock = WakeupsFollowClock ? Clock : new FakeTimeProvider(Clock.GetUtcNow());
                host.Services.AddKeyedSingleton<TimeProvider>(TimeProviderNames.Grains, wakeupClock);
                host.Services.AddKeyedSingleton<TimeProvider>(ReminderTimeProviderNames.Reminders, wakeupClock);
                host.Services.AddSingleton(Keys);
                host.Services.AddSingleton<ISessionIndex>(Index);
                // One directory for every silo, as PostgreSQL's is; Memory's is per process.
                host.Services.AddSingleton<IUserDirectory>(Users);
                host.Services.AddBrokerGrains(
                    new BrokerGrainOptions { PublicBaseUrl = new Uri("https://broker.example/"), UpstreamCallTimeout = UpstreamCallTimeout },
                    new ConnectorOptions
                    {
                        AllowHttpUpstreams = true,
                        Http = new OutboundHttpOptions
                        {
                            AttemptTimeout = Patience,
                            TotalTimeout = 2 * Patience,
                            BaseDelay = TimeSpan.FromMilliseconds(10),
                        },
                    });
                Services?.Invoke(host.Services);
            });
            // The client of the test cluster is a host of its own: it carries the provider's raw profile
            // (a JsonObject) in grain calls as the silos do.
            builder.ConfigureClientHost(host => host.Services.AddBrokerSerialization());
            builder.ConfigureSilo((_, silo) =>
            {
                silo.UseBrokerGrainDefaults();
                if (Storage is null)
                {
                    silo.AddMemoryGrainStorage(BrokerStorage.Name);
                    silo.UseInMemoryReminderService();
                }
                else
                {
                    Storage(silo);
                }
            });
            var cluster = builder.Build();
            await cluster.DeployAsync();
            return cluster;
        }
    }

    /// <summary>Adds a silo to the cluster and waits until the others know it.</summary>
    public async Task StartSiloAsync()
    {
        await _cluster.StartAdditionalSiloAsync();
        await _cluster.WaitForLivenessToStabilizeAsync();
    }

    public T SiloService<T>() where T : notnull => _cluster.GetSiloServiceProvider().GetRequiredService<T>();

    /// <summary>The grain factory of one silo (0 = the first), to call grains from that silo rather than from the client.</summary>
    public IGrainFactory GrainsOn(int siloIndex) =>
        _cluster.GetSiloServiceProvider(_cluster.Silos[siloIndex].SiloAddress).GetRequiredService<IGrainFactory>();

    /// <summary>What the storage holds for a grain's state, as JSON with the silo's own serializer options.</summary>
    public async Task<string?> StoredJsonAsync<TState>(string stateName, string grainType, string key) where TState : new()
    {
        var storage = _cluster.GetSiloServiceProvider().GetRequiredKeyedService<IGrainStorage>(BrokerStorage.Name);
        var state = new GrainState<TState>(new TState());
        await storage.ReadStateAsync(stateName, GrainId.Create(grainType, key), state);
        if (!state.RecordExists)
            return null;
        var serializer = _cluster.GetSiloServiceProvider().GetRequiredService<IGrainStorageSerializer>();
        return serializer.Serialize(state.State).ToString();
    }

    /// <summary>
    /// Changes what the storage holds for a grain's state, as a dead silo's last write would have left it, with a
    /// conditional write. The grain's activation, if any, does not see it: deactivate it first.
    /// </summary>
    public async Task EditStoredJsonAsync<TState>(string stateName, string grainType, string key, Action<JsonObject> edit) where TState : new()
    {
        var silo = _cluster.GetSiloServiceProvider();
        var storage = silo.GetRequiredKeyedService<IGrainStorage>(BrokerStorage.Name);
        var serializer = silo.GetRequiredService<IGrainStorageSerializer>();
        var grain = GrainId.Create(grainType, key);
        var state = new GrainState<TState>(new TState());
        await storage.ReadStateAsync(stateName, grain, state);
        if (!state.RecordExists)
            throw new InvalidOperationException($"Nothing stored for {grain}.");
        var json = JsonNode.Parse(serializer.Serialize(state.State).ToString())!.AsObject();
        edit(json);
        state.State = serializer.Deserialize<TState>(BinaryData.FromString(json.ToJsonString()));
        await storage.WriteStateAsync(stateName, grain, state);
    }

    /// <param name="linkToUserId">Begins a link login (a link URL's) for this user instead of a plain one.</param>
    public Task<BeginLoginResult> BeginAsync(string state, string? linkToUserId = null) =>
        Grains.PendingLogin(state).BeginAsync(
            new BeginLogin(Tenant, Connection, "https://app.example/done", "app-state", "https://broker.example/t/" + TenantId + "/callback", LinkToUserId: linkToUserId));

    /// <summary>Begins a login and lets the fake provider answer the authorize request.</summary>
    public async Task<(string State, CallbackInput Callback)> AuthorizeAsync(string? linkToUserId = null)
    {
        var state = RandomIds.New();
        var begin = await BeginAsync(state, linkToUserId) as BeginLoginResult.Redirect ?? throw new InvalidOperationException("The login did not begin.");
        var query = await Provider.FollowAuthorizeAsync(begin.AuthorizeUrl);
        return (state, new CallbackInput(query.GetValueOrDefault("code"), query.GetValueOrDefault("error")));
    }

    /// <summary>A whole login through to a redeemed hand-off code; returns the session id.</summary>
    public async Task<string> LoginAsync()
    {
        var (state, callback) = await AuthorizeAsync();
        var outcome = await Grains.PendingLogin(state).CompleteAsync(Tenant, callback);
        var success = outcome as CompleteLoginResult.Success ?? throw new InvalidOperationException($"The login failed: {outcome}");
        var session = (await RedeemAsync(success.HandoffCode))?.SessionId
            ?? throw new InvalidOperationException("The hand-off code was not redeemed.");
        _sessions.Add(session);
        return session;
    }

    /// <summary>The session a hand-off code names, for this kit's tenant (null when it is no valid code of it).</summary>
    public string? SessionOf(string handoffCode) => SiloService<HandoffCodes>().Read(handoffCode, Tenant)?.SessionId;

    /// <summary>Redeems a hand-off code as the exchange route does: the session, or null.</summary>
    public async Task<SessionView?> RedeemAsync(string handoffCode, IGrainFactory? through = null) =>
        SessionOf(handoffCode) is { } session ? await (through ?? Grains).Session(session).RedeemHandoffAsync(Tenant) : null;

    public ISessionGrain Session(string id) => Grains.Session(id);

    public int RefreshRequests => Provider.RequestsTo("/token").Count(r => r.Form.GetValueOrDefault("grant_type") == "refresh_token");

    /// <summary>
    /// Moves the clock. The grain timers that come due are queued on their activations at once; a
    /// call to each session made by <see cref="LoginAsync"/> then waits behind that work, so that the
    /// test sees its outcome (a session's own reminder, due at the same time, finds nothing left to do).
    /// </summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        foreach (var session in _sessions)
            await Session(session).GetAsync(Tenant);
    }

    /// <summary>
    /// Moves the clock a step at a time until <paramref name="condition"/> holds, touching no grain: for work that
    /// only a reminder starts. A reminder loads and waits for its tick in the background, and one due at or before
    /// the moment it starts waiting ticks only once the clock moves again (Orleans gives such a tick a minimal
    /// delay), so a single move of the clock could come too early.
    /// </summary>
    public Task AdvanceUntilAsync(TimeSpan step, Func<Task<bool>> condition, string what) =>
        Eventually.HoldsAsync(async () =>
        {
            if (await condition())
                return true;
            Clock.Advance(step);
            return false;
        }, what);

    public async ValueTask DisposeAsync()
    {
        foreach (var other in _others)
            await other.DisposeAsync();
        await _cluster.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

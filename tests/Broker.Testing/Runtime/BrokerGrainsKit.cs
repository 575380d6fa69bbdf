using Broker.Grains;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Logins;
using Broker.Grains.Runtime;
using Broker.Grains.Security;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Testing.Upstreams;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Testing.Runtime;

/// <summary>
/// The broker's grains on in-process silos sharing one Memory store and one fake clock, with a fake
/// OIDC provider as the upstream. One kit per test: nothing is shared between tests. The store is
/// Memory unless the test passes others (the PostgreSQL tests do).
/// </summary>
public sealed class BrokerGrainsKit : IAsyncDisposable
{
    public const string Connection = "oidc";

    private readonly List<TestSilo> _silos = [];
    private readonly IDataProtectionProvider _keys = new EphemeralDataProtectionProvider();

    private BrokerGrainsKit(ManualTimeProvider clock, FakeOidcProvider provider, IGrainStateStore states, IReminderTable reminders)
    {
        Clock = clock;
        Provider = provider;
        States = states;
        Reminders = reminders;
        Silo = StartSilo();
    }

    public ManualTimeProvider Clock { get; }

    public FakeOidcProvider Provider { get; }

    public IGrainStateStore States { get; }

    public IReminderTable Reminders { get; }

    /// <summary>The first silo; <see cref="StartSilo"/> adds more.</summary>
    public TestSilo Silo { get; }

    public GrainFactory Grains => Silo.Grains;

    public string TenantId { get; } = "t-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The test tenant's current life, what the grains' tenant-scoped calls take.</summary>
    public TenantRef Tenant { get; private set; } = null!;

    public static async Task<BrokerGrainsKit> StartAsync(IGrainStateStore? states = null, IReminderTable? reminders = null)
    {
        // A real "now", so the fake's id_tokens pass validation; tests move it forward.
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var provider = await FakeOidcProvider.StartAsync(clock);
        var kit = new BrokerGrainsKit(clock, provider, states ?? new MemoryGrainStateStore(), reminders ?? new MemoryReminderTable());
        var tenant = kit.Grains.GetGrain<ITenantGrain>(kit.TenantId);
        await tenant.CreateAsync("Test", ["https://app.example/done"]);
        await tenant.PutConnectionAsync(provider.OidcConnection() with { Id = Connection });
        kit.Tenant = (await tenant.GetAsync())!.Ref;
        return kit;
    }

    public TestSilo StartSilo()
    {
        var silo = new TestSilo(States, Reminders, Clock, services =>
        {
            services.AddSingleton(_keys);
            services.AddBrokerGrainDependencies(
                new BrokerGrainOptions { PublicBaseUrl = new Uri("https://broker.example/"), UpstreamCallTimeout = TimeSpan.FromSeconds(2) },
                new ConnectorOptions
                {
                    AllowHttpUpstreams = true,
                    Http = new OutboundHttpOptions
                    {
                        AttemptTimeout = TimeSpan.FromSeconds(5),
                        TotalTimeout = TimeSpan.FromSeconds(10),
                        BaseDelay = TimeSpan.FromMilliseconds(10),
                    },
                });
        }, grains: GrainServices.RegisterGrains);
        _silos.Add(silo);
        return silo;
    }

    public Task<BeginLoginResult> BeginAsync(string state, TestSilo? silo = null) =>
        (silo ?? Silo).Grains.GetGrain<IPendingLoginGrain>(state).BeginAsync(
            new BeginLogin(Tenant, Connection, "https://app.example/done", "app-state", "https://broker.example/t/" + TenantId + "/callback"));

    /// <summary>Begins a login and lets the fake provider answer the authorize request.</summary>
    public async Task<(string State, CallbackInput Callback)> AuthorizeAsync()
    {
        var state = RandomIds.New();
        var begin = await BeginAsync(state) as BeginLoginResult.Redirect ?? throw new InvalidOperationException("The login did not begin.");
        var query = await Provider.FollowAuthorizeAsync(begin.AuthorizeUrl);
        return (state, new CallbackInput(query.GetValueOrDefault("code"), query.GetValueOrDefault("error")));
    }

    /// <summary>A whole login through to a redeemed hand-off code; returns the session id.</summary>
    public async Task<string> LoginAsync()
    {
        var (state, callback) = await AuthorizeAsync();
        var outcome = await Grains.GetGrain<IPendingLoginGrain>(state).CompleteAsync(Tenant, callback);
        var success = outcome as CompleteLoginResult.Success ?? throw new InvalidOperationException($"The login failed: {outcome}");
        return await Grains.GetGrain<IHandoffCodeGrain>(success.HandoffCode).RedeemAsync(Tenant)
            ?? throw new InvalidOperationException("The hand-off code was not redeemed.");
    }

    public ISessionGrain Session(string id) => Grains.GetGrain<ISessionGrain>(id);

    public int RefreshRequests => Provider.RequestsTo("/token").Count(r => r.Form.GetValueOrDefault("grant_type") == "refresh_token");

    /// <summary>Moves the clock and delivers every reminder now due, as the silos' pollers would.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        foreach (var silo in _silos)
            await silo.DrainRemindersAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
            await silo.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

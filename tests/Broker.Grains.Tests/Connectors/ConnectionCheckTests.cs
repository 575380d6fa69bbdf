using Broker.Grains.Connectors;
using Broker.Testing.Upstreams;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Grains.Tests.Connectors;

/// <summary>
/// The connection check against providers nobody here wrote (panva's npm oidc-provider) and against the
/// provider fakes: a right configuration passes, a wrong secret and a wrong auth method are named as such,
/// an issuer that is not there fails discovery; no session, no token, nothing stored.
/// </summary>
public sealed class ConnectionCheckTests : IClassFixture<ConnectionCheckTests.Upstream>, IDisposable
{
    private const string CallbackUrl = "https://broker.example/t/acme/callback";
    private readonly NodeOidcProvider provider;
    private readonly TestHttpClientFactory httpClients = new();

    public ConnectionCheckTests(Upstream upstream) => provider = upstream.Provider;

    /// <summary>A provider whose client is registered for client_secret_basic, as most are.</summary>
    public sealed class Upstream : IAsyncLifetime
    {
        public NodeOidcProvider Provider { get; private set; } = null!;

        public async Task InitializeAsync() => Provider = await NodeOidcProvider.StartAsync(new NodeOidcProviderOptions());

        public async Task DisposeAsync() => await Provider.DisposeAsync();
    }

    public void Dispose() => httpClients.Dispose();

    [Fact]
    public async Task A_right_configuration_passes_every_check_and_says_what_to_register()
    {
        var report = await Checker().CheckAsync(provider.OidcConnection(), CallbackUrl, CancellationToken.None);

        Assert.True(report.Ok, Describe(report));
        Assert.Equal(CallbackUrl, report.CallbackUrl);
        Assert.Equal(["discovery", "jwks", "authorize", "client"], report.Checks.Select(c => c.Name));
        Assert.All(report.Checks, c => Assert.True(c.Ok, c.Detail));
        Assert.Contains("client_secret_basic", report.Checks.Single(c => c.Name == "client").Detail);
    }

    [Fact]
    public async Task A_wrong_secret_is_named_as_refused_credentials()
    {
        var report = await Checker().CheckAsync(provider.OidcConnection() with { ClientSecret = "not-the-secret" }, CallbackUrl, CancellationToken.None);

        Assert.False(report.Ok);
        var client = report.Checks.Single(c => c.Name == "client");
        Assert.False(client.Ok);
        Assert.Contains("refused the client credentials", client.Detail);
        Assert.DoesNotContain("not-the-secret", Describe(report)); // never the secret
        Assert.True(report.Checks.Single(c => c.Name == "discovery").Ok);
    }

    [Fact]
    public async Task A_wrong_auth_method_is_named_with_the_method_that_was_used()
    {
        // A confidential client configured as a public one: oidc-provider takes basic or post for it, not none.
        var report = await Checker().CheckAsync(provider.OidcConnection() with { TokenEndpointAuthMethod = TokenEndpointAuthMethods.None, ClientSecret = null }, CallbackUrl, CancellationToken.None);

        var client = report.Checks.Single(c => c.Name == "client");
        Assert.False(client.Ok, client.Detail);
        Assert.Contains("sent with none", client.Detail);
    }

    [Fact]
    public async Task An_issuer_that_does_not_serve_discovery_fails_it_and_the_rest_says_so()
    {
        var report = await Checker().CheckAsync(provider.OidcConnection() with { Issuer = provider.IssuerIdentifier + "/nowhere" }, CallbackUrl, CancellationToken.None);

        Assert.False(report.Ok);
        Assert.False(report.Checks.Single(c => c.Name == "discovery").Ok);
        Assert.DoesNotContain(report.Checks, c => c.Name == "jwks");
        Assert.False(report.Checks.Single(c => c.Name == "authorize").Ok);
    }

    [Theory]
    [InlineData(TokenEndpointAuthMethods.ClientSecretPost, true)]
    [InlineData(TokenEndpointAuthMethods.ClientSecretBasic, false)]
    public async Task Against_authing_the_client_check_follows_the_auth_method_the_app_requires(string method, bool ok)
    {
        await using var fake = await FakeAuthing.StartAsync(TimeProvider.System);
        fake.RequiredAuthMethod["token"] = TokenEndpointAuthMethods.ClientSecretPost;
        var config = new ConnectionConfig
        {
            Id = "authing", Type = ConnectionTypes.Authing, ClientId = fake.ClientId, ClientSecret = fake.ClientSecret,
            BaseUrl = fake.Upstream.BaseUrl, TokenEndpointAuthMethod = method,
        };

        var report = await Checker().CheckAsync(config, CallbackUrl, CancellationToken.None);

        Assert.Equal(ok, report.Checks.Single(c => c.Name == "client").Ok);
        Assert.Equal(ok, report.Ok);
        Assert.Empty(fake.Upstream.RequestsTo("/oidc/me")); // no token was ever issued, so no profile read
    }

    /// <summary>What the check reports for each provider type against its fake, right secret and wrong one.</summary>
    [Theory]
    [InlineData(ConnectionTypes.JAccount)]
    [InlineData(ConnectionTypes.ShangCloud)]
    [InlineData(ConnectionTypes.Qq)]
    [InlineData(ConnectionTypes.GitHub)]
    public async Task Each_provider_types_fake_passes_with_its_secret_and_names_a_wrong_one(string type)
    {
        var (config, fake) = await StartFakeAsync(type);
        await using var _ = fake;

        var right = await Checker().CheckAsync(config, CallbackUrl, CancellationToken.None);
        var wrong = await Checker().CheckAsync(config with { ClientSecret = "not-the-secret" }, CallbackUrl, CancellationToken.None);

        Assert.True(right.Ok, Describe(right));
        Assert.True(right.Checks.Single(c => c.Name == "client").Ok, Describe(right));
        Assert.False(wrong.Ok, Describe(wrong));
        Assert.False(wrong.Checks.Single(c => c.Name == "client").Ok, Describe(wrong));
    }

    private static async Task<(ConnectionConfig Config, IAsyncDisposable Fake)> StartFakeAsync(string type)
    {
        switch (type)
        {
            case ConnectionTypes.JAccount:
                var jaccount = await FakeJAccount.StartAsync(TimeProvider.System);
                return (new ConnectionConfig { Id = "main", Type = type, ClientId = jaccount.ClientId, ClientSecret = jaccount.ClientSecret, BaseUrl = jaccount.Upstream.BaseUrl }, jaccount);
            case ConnectionTypes.ShangCloud:
                var shangCloud = await FakeShangCloud.StartAsync();
                return (new ConnectionConfig { Id = "main", Type = type, ClientId = shangCloud.ClientId, ClientSecret = shangCloud.ClientSecret, BaseUrl = shangCloud.Upstream.BaseUrl }, shangCloud);
            case ConnectionTypes.Qq:
                var qq = await FakeQq.StartAsync();
                return (new ConnectionConfig { Id = "main", Type = type, ClientId = qq.ClientId, ClientSecret = qq.ClientSecret, BaseUrl = qq.Upstream.BaseUrl }, qq);
            default:
                var github = await FakeGitHub.StartAsync();
                return (new ConnectionConfig { Id = "main", Type = type, ClientId = github.ClientId, ClientSecret = github.ClientSecret, BaseUrl = github.Upstream.BaseUrl }, github);
        }
    }

    private ConnectionChecker Checker() =>
        new(new ConnectorFactory(httpClients, TimeProvider.System, new ConnectorOptions { Http = ConnectorTestKit.FastHttp, AllowHttpUpstreams = true }));

    private static string Describe(ConnectionCheckReport report) => string.Join('\n', report.Checks.Select(c => $"{c.Name} {c.Ok}: {c.Detail}"));
}

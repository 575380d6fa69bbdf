using Microsoft.Extensions.Time.Testing;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Http;
using Broker.Testing;
using Broker.Testing.Upstreams;

namespace Broker.Grains.Tests.Connectors;

/// <summary>One fake provider, one clock and one connector factory per test: nothing is shared between tests.</summary>
internal sealed class ConnectorTestKit : IAsyncDisposable
{
    public const string RedirectUri = "https://broker.example/t/acme/callback";

    private readonly TestHttpClientFactory httpClients = new();

    private ConnectorTestKit(FakeOidcProvider provider, FakeTimeProvider clock, ConnectorOptions options)
    {
        Provider = provider;
        Clock = clock;
        Factory = new ConnectorFactory(httpClients, clock, options);
    }

    public FakeOidcProvider Provider { get; }

    public FakeTimeProvider Clock { get; }

    public ConnectorFactory Factory { get; }

    /// <summary>Fast retries and short timeouts so failure tests stay quick.</summary>
    public static OutboundHttpOptions FastHttp { get; } = new()
    {
        AttemptTimeout = TimeSpan.FromSeconds(5),
        TotalTimeout = TimeSpan.FromSeconds(15),
        BaseDelay = TimeSpan.FromMilliseconds(10),
        MaxRetryAfter = TimeSpan.FromSeconds(1),
    };

    public static async Task<ConnectorTestKit> StartAsync(OutboundHttpOptions? http = null, TimeSpan? clockSkew = null)
    {
        // A real "now", so the fake's tokens and the validator agree; the test moves it forward.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var provider = await FakeOidcProvider.StartAsync(clock);
        return new ConnectorTestKit(provider, clock, new ConnectorOptions
        {
            Http = http ?? FastHttp,
            ClockSkew = clockSkew ?? TimeSpan.FromMinutes(2),
            AllowHttpUpstreams = true,
        });
    }

    public IConnector Oidc(string authMethod = TokenEndpointAuthMethods.ClientSecretBasic, Func<ConnectionConfig, ConnectionConfig>? tweak = null) =>
        Factory.Create((tweak ?? (c => c))(Provider.OidcConnection(authMethod)));

    public IConnector OAuth2(string authMethod = TokenEndpointAuthMethods.ClientSecretBasic, Func<ConnectionConfig, ConnectionConfig>? tweak = null) =>
        Factory.Create((tweak ?? (c => c))(Provider.OAuth2Connection(authMethod)));

    /// <summary>Runs a whole login: authorize URL, the fake's redirect, then the callback.</summary>
    public async Task<LoginResult> LoginAsync(IConnector connector)
    {
        var begin = NewLogin();
        var callback = await AuthorizeAsync(connector, begin);
        return await connector.CompleteAsync(callback, begin.Pending, CancellationToken.None);
    }

    /// <summary>Builds the authorize URL and lets the fake answer it; returns the callback.</summary>
    public async Task<CallbackInput> AuthorizeAsync(IConnector connector, Login login)
    {
        var redirect = await connector.BuildAuthorizeRequestAsync(login.Input, CancellationToken.None);
        var query = await Provider.FollowAuthorizeAsync(redirect.Url);
        Assert.Equal(login.Input.State, query["state"]);
        return new CallbackInput(query.GetValueOrDefault("code"), query.GetValueOrDefault("error"));
    }

    /// <summary>Makes the fake sign id_tokens whose default claims <paramref name="tweak"/> changed.</summary>
    public void SignIdToken(Action<JsonObject> tweak) =>
        Provider.IdTokenOverride = claims =>
        {
            tweak(claims);
            return Provider.Keys.Sign(claims);
        };

    /// <summary>Asserts a login fails as an invalid callback whose message names <paramref name="rule"/>.</summary>
    public async Task AssertLoginRejectedAsync(string rule)
    {
        var error = await Assert.ThrowsAsync<ConnectorException>(() => LoginAsync(Oidc()));
        Assert.Equal(ConnectorErrorKind.InvalidCallback, error.Kind);
        Assert.Contains(rule, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    public static Login NewLogin()
    {
        var verifier = Pkce.CreateVerifier();
        var nonce = Base64Url.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var state = Base64Url.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        return new Login(
            new AuthorizeInput(RedirectUri, state, nonce, Pkce.ComputeChallenge(verifier)),
            new PendingLoginData(RedirectUri, verifier, nonce));
    }

    public async ValueTask DisposeAsync()
    {
        await Provider.DisposeAsync();
        httpClients.Dispose();
    }

    internal sealed record Login(AuthorizeInput Input, PendingLoginData Pending);
}

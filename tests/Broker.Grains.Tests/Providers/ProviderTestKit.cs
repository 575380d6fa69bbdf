using Microsoft.Extensions.Time.Testing;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.Http;
using Broker.Testing;
using Broker.Testing.Upstreams;
using Broker.Testing.Upstreams.Providers;

namespace Broker.Grains.Tests.Providers;

/// <summary>A clock and a connector factory per test, and the moves every provider test makes: log in, call the API.</summary>
internal sealed class ProviderTestKit : IDisposable
{
    public const string RedirectUri = "https://broker.example/t/acme/callback";

    private readonly TestHttpClientFactory httpClients = new();

    public ProviderTestKit(OutboundHttpOptions? http = null)
    {
        // A real "now", so the fakes' id_tokens and the validator agree; tests move it forward.
        Clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Factory = new ConnectorFactory(httpClients, Clock, new ConnectorOptions
        {
            Http = http ?? new OutboundHttpOptions
            {
                AttemptTimeout = TimeSpan.FromSeconds(5),
                TotalTimeout = TimeSpan.FromSeconds(15),
                BaseDelay = TimeSpan.FromMilliseconds(10),
                MaxRetryAfter = TimeSpan.FromSeconds(1),
            },
            AllowHttpUpstreams = true,
        });
    }

    public FakeTimeProvider Clock { get; }

    public ConnectorFactory Factory { get; }

    public IConnector Create(ConnectionConfig config) => Factory.Create(config);

    /// <summary>Authorize URL, the fake's redirect, then the callback.</summary>
    public async Task<LoginResult> LoginAsync(IConnector connector)
    {
        var login = NewLogin();
        var callback = await AuthorizeAsync(connector, login);
        return await connector.CompleteAsync(callback, login.Pending, CancellationToken.None);
    }

    public static async Task<CallbackInput> AuthorizeAsync(IConnector connector, Login login)
    {
        var redirect = await connector.BuildAuthorizeRequestAsync(login.Input, CancellationToken.None);
        var query = await FakeUpstream.FollowAuthorizeAsync(redirect.Url);
        Assert.Equal(login.Input.State, query["state"]);
        return new CallbackInput(query.GetValueOrDefault("code"), query.GetValueOrDefault("error"));
    }

    public static Login NewLogin()
    {
        var verifier = Pkce.CreateVerifier();
        var nonce = Base64Url.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var state = Base64Url.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        return new Login(new AuthorizeInput(RedirectUri, state, nonce, Pkce.ComputeChallenge(verifier)), new PendingLoginData(RedirectUri, verifier, nonce));
    }

    /// <summary>What the upstream proxy will do: resolve, authorize the provider's way, send, classify.</summary>
    public static async Task<ApiCall> CallApiAsync(
        IConnector connector, LoginResult login, string path, HttpMethod? method = null, HttpContent? content = null, UpstreamTokens? tokens = null)
    {
        var api = Assert.IsAssignableFrom<IApiConnector>(connector);
        var target = ApiTarget.Resolve(api.ApiBaseUrl!, path, null);
        Assert.True(target.IsValid, target.Error);
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, target.Url) { Content = content };
        api.AuthorizeApiRequest(request, tokens ?? login.Tokens, login.Profile);
        using var client = new HttpClient();
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return new ApiCall((int)response.StatusCode, System.Text.Encoding.UTF8.GetString(body), api.ClassifyApiResponse((int)response.StatusCode, body));
    }

    public void Dispose() => httpClients.Dispose();

    internal sealed record Login(AuthorizeInput Input, PendingLoginData Pending);

    internal sealed record ApiCall(int Status, string Body, ApiFailure? Failure);
}

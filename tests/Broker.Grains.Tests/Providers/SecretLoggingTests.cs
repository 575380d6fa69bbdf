using Microsoft.Extensions.Time.Testing;
using System.Collections.Concurrent;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Http;
using Broker.Testing;
using Broker.Testing.Upstreams.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Grains.Tests.Providers;

/// <summary>
/// QQ takes the client secret in the token request's query. The silo sends through
/// IHttpClientFactory (GrainServices.AddHttpClient), whose logging handlers write the request URI;
/// .NET 9+ redacts the query there ("URI query and fragment redaction in IHttpClientFactory logs").
/// This checks it end to end with the same registration, at Trace level.
/// </summary>
public sealed class SecretLoggingTests
{
    [Fact]
    public async Task A_qq_login_and_refresh_log_no_secret_and_no_token()
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddHttpClient(OutboundHttpOptions.HttpClientName);
        await using var provider = services.BuildServiceProvider();
        await using var fake = await FakeQq.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var factory = new ConnectorFactory(provider.GetRequiredService<IHttpClientFactory>(), clock, new ConnectorOptions { AllowHttpUpstreams = true });
        var connector = (IRefreshConnector)factory.Create(QqConnectorTests.Connection(fake));
        var kit = new ProviderTestKit();

        var login = await kit.LoginAsync(connector);
        var fresh = await connector.RefreshAsync(login.Tokens, CancellationToken.None);

        var text = string.Join('\n', logs.Messages);
        Assert.Contains("/oauth2.0/token", text); // the calls were logged ...
        Assert.DoesNotContain(fake.ClientSecret, text); // ... without the secret
        Assert.DoesNotContain(login.Tokens.AccessToken, text);
        Assert.DoesNotContain(fresh.RefreshToken!, text);
        kit.Dispose();
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                owner.Messages.Enqueue($"scope: {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Messages.Enqueue($"{formatter(state, exception)} {exception}");
        }
    }
}

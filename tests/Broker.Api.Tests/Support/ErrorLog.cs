using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Broker.Api.Tests.Support;

/// <summary>Collects what the host logs at Error or above: what a client did wrong must never land there.</summary>
public sealed class ErrorLog : ILoggerProvider
{
    public ConcurrentQueue<string> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ErrorLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                log.Entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception?.GetType().Name}");
        }
    }
}

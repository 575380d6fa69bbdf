using System.Reflection;
using Broker.Silo.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Orleans.Serialization.Invocation;

namespace Broker.Silo.Tests.Hosting;

/// <summary>DESIGN.md §2: a grain call that met a silo that just died is sent once more, and only once.</summary>
public sealed class SiloCallRetryTests
{
    private readonly SiloCallRetry _retry = new(NullLogger<SiloCallRetry>.Instance);

    [Fact]
    public async Task A_call_rejected_by_a_dead_silo_is_sent_once_more_and_succeeds()
    {
        var context = Call.Failing(new SiloUnavailableException("target silo became unavailable"));

        await _retry.Invoke(context.Proxy);

        Assert.Null(context.Proxy.Response!.Exception);
        Assert.Equal(2, context.Attempts);
    }

    [Fact]
    public async Task A_second_rejection_reaches_the_caller()
    {
        var context = Call.Failing(new SiloUnavailableException("gone"), new SiloUnavailableException("still gone"));

        await _retry.Invoke(context.Proxy);

        Assert.IsType<SiloUnavailableException>(context.Proxy.Response!.Exception);
        Assert.Equal(2, context.Attempts);
    }

    [Theory]
    [InlineData(typeof(TimeoutException))]
    [InlineData(typeof(InvalidOperationException))]
    public async Task Other_failures_are_not_retried(Type exception)
    {
        // A timed-out call may have run: only a rejected message is known to be safe to send again.
        var context = Call.Failing((Exception)Activator.CreateInstance(exception, "boom")!);

        await _retry.Invoke(context.Proxy);

        Assert.IsType(exception, context.Proxy.Response!.Exception);
        Assert.Equal(1, context.Attempts);
    }

    /// <summary>A grain call whose first attempts throw the given exceptions and whose next one succeeds.</summary>
    public class Call : DispatchProxy
    {
        private readonly Queue<Exception> _failures = new();
        private Response? _response;

        public int Attempts { get; private set; }

        public IOutgoingGrainCallContext Proxy { get; private set; } = null!;

        public static Call Failing(params Exception[] failures)
        {
            var proxy = Create<IOutgoingGrainCallContext, Call>();
            var call = (Call)(object)proxy;
            call.Proxy = proxy;
            foreach (var failure in failures)
                call._failures.Enqueue(failure);
            return call;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(IOutgoingGrainCallContext.Invoke) => Attempt(),
            "get_Response" => _response,
            "set_Response" => _response = (Response?)args![0],
            "get_MethodName" => "GetAsync",
            "get_TargetId" => GrainId.Create("session", "s:test"),
            _ => throw new NotSupportedException(targetMethod?.Name),
        };

        /// <summary>As Orleans does: a failed call completes with a response that carries the exception.</summary>
        private Task Attempt()
        {
            Attempts++;
            _response = _failures.TryDequeue(out var failure) ? Response.FromException(failure) : Response.Completed;
            return Task.CompletedTask;
        }
    }
}

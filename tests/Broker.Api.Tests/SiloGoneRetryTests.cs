using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Orleans.Runtime;

namespace Broker.Api.Tests;

/// <summary>docs/design.md §2: a request whose grain sat on a silo that just died is run once more, body
/// included, and only once; a timed-out call is not run again.</summary>
public sealed class SiloGoneRetryTests : IAsyncDisposable
{
    private readonly List<string> _bodies = [];
    private int _failuresLeft;
    private Exception _failure = new SiloUnavailableException("the target silo became unavailable");
    private WebApplication? _app;

    [Fact]
    public async Task A_route_that_met_a_dead_silo_runs_once_more_and_reads_its_body_again()
    {
        _failuresLeft = 1;
        using var client = await StartAsync();

        using var answer = await client.PostAsync("/grain", new StringContent("{\"code\":\"abc\"}"));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(["{\"code\":\"abc\"}", "{\"code\":\"abc\"}"], _bodies);
    }

    [Fact]
    public async Task A_second_rejection_reaches_the_error_handler()
    {
        _failuresLeft = 2;
        using var client = await StartAsync();

        await Assert.ThrowsAsync<SiloUnavailableException>(() => client.PostAsync("/grain", new StringContent("x")));
        Assert.Equal(2, _bodies.Count);
    }

    [Fact]
    public async Task A_call_that_timed_out_is_not_run_again()
    {
        _failuresLeft = 1;
        _failure = new TimeoutException("no response within the response timeout");
        using var client = await StartAsync();

        await Assert.ThrowsAsync<TimeoutException>(() => client.PostAsync("/grain", new StringContent("x")));
        Assert.Single(_bodies);
    }

    private async Task<HttpClient> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        _app = builder.Build();
        _app.MapPost("/grain", async (HttpRequest request) =>
        {
            _bodies.Add(await new StreamReader(request.Body).ReadToEndAsync());
            if (_failuresLeft-- > 0)
                throw _failure;
            return Results.Ok();
        }).RetryOnceWhenASiloIsGone();
        await _app.StartAsync();
        return _app.GetTestClient();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Broker.Api.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Api.Tests;

/// <summary>What surrounds the routes: health, the OpenAPI document, unknown routes, and what an exception turns into.</summary>
public sealed class OperationsTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    [Fact]
    public async Task Health_still_answers()
    {
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_rest_routes_but_not_the_dev_idp()
    {
        using var response = await api.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = (await TestApi.ReadJsonAsync(response))["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/admin/tenants", paths);
        Assert.Contains("/api/tenants/{tenant}/connections/{connection}", paths);
        Assert.Contains("/api/tenants/{tenant}/sessions/exchange", paths);
        Assert.Contains("/api/tenants/{tenant}/users/{user}/sessions", paths);
        Assert.Contains("/t/{tenant}/login", paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("/dev-idp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_route_is_a_problem_404()
    {
        await TestApi.AssertProblemAsync(await api.GetAsync("/api/nothing-here"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_exception_is_a_500_with_a_trace_id_and_no_stack_trace()
    {
        using var host = new BrokerTestHost(services: s => s.AddTransient<IStartupFilter, ThrowingTail>());
        using var client = host.CreateBrowser();

        using var apiError = await client.GetAsync("/api/boom");
        var problem = await TestApi.AssertProblemAsync(apiError, HttpStatusCode.InternalServerError, "server_error");
        Assert.False(string.IsNullOrEmpty(problem["traceId"]?.GetValue<string>()));
        Assert.DoesNotContain("secret detail", problem.ToJsonString());

        using var browserError = await client.GetAsync("/t/boom/anything");
        await TestApi.AssertErrorPageAsync(browserError, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("secret detail", await browserError.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/silo-gone", "silo_unavailable")]
    [InlineData("/api/state-raced", "conflict_retry")]
    [InlineData("/api/call-timed-out", "silo_unavailable")]
    public async Task A_grain_call_that_met_a_dead_silo_or_a_raced_state_is_a_503_with_retry_after(string path, string code)
    {
        using var host = new BrokerTestHost(services: s => s.AddTransient<IStartupFilter, ThrowingTail>());
        using var client = host.CreateBrowser();

        using var answer = await client.GetAsync(path);

        await TestApi.AssertProblemAsync(answer, HttpStatusCode.ServiceUnavailable, code);
        Assert.True(answer.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After in seconds");
    }

    /// <summary>Throws for any request no route took, behind the real pipeline and its exception handler:
    /// what a grain call can throw at the front end, and a bug.</summary>
    private sealed class ThrowingTail : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Run(context => context.Request.Path.Value switch
            {
                "/api/silo-gone" => throw new Orleans.Runtime.SiloUnavailableException("the target silo became unavailable"),
                "/api/state-raced" => throw new Orleans.Storage.InconsistentStateException("etag mismatch", "1", "2"),
                "/api/call-timed-out" => throw new TimeoutException("response did not arrive on time"),
                var path when path!.Contains("boom") => throw new InvalidOperationException("secret detail"),
                _ => Task.CompletedTask,
            });
        };
    }

    public void Dispose() => api.Dispose();
}

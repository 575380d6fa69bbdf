using System.Net;
using Broker.Api.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Api.Tests;

/// <summary>
/// A lookup may run the route's action in the same grain call (the token read does), which is before the
/// caller's key has been judged at its place in the §6 order. So it may do so only for a caller already
/// known to pass every later rule: for anyone else the plain lookup runs, and a refused request has still
/// changed nothing (a token read can refresh, and revoke nothing, but must not run for a wrong key).
/// </summary>
public sealed class LookupAndActTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly TestApi api = new(fixture.Host);

    public enum Caller { OwnKey, Admin, NoKey, WrongKeyOfTheTenant, AnotherTenantsKey, OwnKeyOverTheSizeLimit }

    [Theory]
    [InlineData(Caller.OwnKey, true, null)]
    [InlineData(Caller.Admin, true, null)]
    [InlineData(Caller.NoKey, false, HttpStatusCode.Unauthorized)]
    [InlineData(Caller.WrongKeyOfTheTenant, false, HttpStatusCode.Unauthorized)]
    [InlineData(Caller.AnotherTenantsKey, false, HttpStatusCode.NotFound)]
    [InlineData(Caller.OwnKeyOverTheSizeLimit, false, HttpStatusCode.RequestEntityTooLarge)]
    public async Task The_action_runs_in_the_lookup_only_for_a_caller_that_nothing_later_refuses(Caller caller, bool acts, HttpStatusCode? refused)
    {
        var tenant = await api.CreateTenantAsync();
        var other = await api.CreateTenantAsync();
        var http = new DefaultHttpContext { RequestServices = fixture.Host.Services.CreateScope().ServiceProvider };
        var bearer = caller switch
        {
            Caller.OwnKey or Caller.OwnKeyOverTheSizeLimit => tenant.ApiKey,
            Caller.Admin => TestApi.Admin,
            Caller.WrongKeyOfTheTenant => $"{tenant.Id}.abcdefghijkl.{new string('x', 43)}",
            Caller.AnotherTenantsKey => other.ApiKey,
            _ => null,
        };
        if (bearer is not null)
            http.Request.Headers.Authorization = $"Bearer {bearer}";
        var looked = 0;
        var acted = 0;

        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Tenant = tenant.Id,
            Body = caller == Caller.OwnKeyOverTheSizeLimit ? new BodyCheck(null, TooLarge: true) : BodyCheck.Fine,
            Resource = new Lookup("thing", _ => Task.FromResult(++looked > 0)) { ExistsAndActAsync = _ => Task.FromResult(++acted > 0) },
        });

        Assert.Equal(acts ? (0, 1) : (1, 0), (looked, acted));
        Assert.Equal(refused, (HttpStatusCode?)check.Refused?.StatusCode);
    }

    [Fact]
    public async Task A_thing_the_one_call_lookup_does_not_find_is_a_404_for_a_caller_that_would_pass()
    {
        var tenant = await api.CreateTenantAsync();
        var http = new DefaultHttpContext { RequestServices = fixture.Host.Services.CreateScope().ServiceProvider };
        http.Request.Headers.Authorization = $"Bearer {tenant.ApiKey}";

        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Tenant = tenant.Id,
            Resource = new Lookup("thing", _ => Task.FromResult(true)) { ExistsAndActAsync = _ => Task.FromResult(false) },
        });

        Assert.Equal(StatusCodes.Status404NotFound, check.Refused?.StatusCode);
    }

    public void Dispose() => api.Dispose();
}

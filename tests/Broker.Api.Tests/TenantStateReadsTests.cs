using System.Collections.Concurrent;
using System.Net;
using Broker.Api.Tests.Support;
using Broker.Grains.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Api.Tests;

/// <summary>
/// Every grain turn starts by reading its state, a database round trip on PostgreSQL. A tenant REST call
/// with the tenant's own key finds the tenant and checks the key in one turn; these tests count the
/// tenant-state reads a request makes.
/// </summary>
public sealed class TenantStateReadsTests : IDisposable
{
    private readonly CountingStateStore store = new(new MemoryGrainStateStore());
    private readonly BrokerTestHost host;
    private readonly TestApi api;

    public TenantStateReadsTests()
    {
        host = new BrokerTestHost(services: s => s.AddSingleton<IGrainStateStore>(store));
        api = new TestApi(host);
    }

    [Fact]
    public async Task A_call_with_the_tenants_own_key_finds_the_tenant_and_checks_the_key_in_one_read()
    {
        var tenant = await api.CreateTenantAsync();

        // One read finds the tenant and checks the key; the listing is the second.
        Assert.Equal(HttpStatusCode.OK, await CountedAsync(tenant.Id, tenant.ApiKey, expectedReads: 2));
        Assert.Equal(HttpStatusCode.OK, await CountedAsync(tenant.Id, TestApi.Admin, expectedReads: 2));
        // A wrong key of the right shape is refused after that one read.
        Assert.Equal(HttpStatusCode.Unauthorized, await CountedAsync(tenant.Id, tenant.ApiKey[..^1] + (tenant.ApiKey[^1] == 'A' ? 'B' : 'A'), expectedReads: 1));
    }

    [Fact]
    public async Task Another_tenants_key_is_checked_at_its_own_tenant()
    {
        var (mine, theirs) = (await api.CreateTenantAsync(), await api.CreateTenantAsync());

        // One read finds the route's tenant, one checks the key where it claims to belong (DESIGN.md §6: 404).
        Assert.Equal(HttpStatusCode.NotFound, await CountedAsync(mine.Id, theirs.ApiKey, expectedReads: 2));
    }

    private async Task<HttpStatusCode> CountedAsync(string tenant, string bearer, int expectedReads)
    {
        store.Reads.Clear();
        using var response = await api.SendAsync(HttpMethod.Get, $"/api/tenants/{tenant}/connections", bearer);
        Assert.Equal(expectedReads, store.Reads.Count(g => g.Type == "tenant"));
        return response.StatusCode;
    }

    public void Dispose()
    {
        api.Dispose();
        host.Dispose();
    }

    private sealed class CountingStateStore(IGrainStateStore inner) : IGrainStateStore
    {
        public ConcurrentQueue<GrainId> Reads { get; } = new();

        public Task<StoredState?> ReadAsync(GrainId grain, CancellationToken cancellationToken = default)
        {
            Reads.Enqueue(grain);
            return inner.ReadAsync(grain, cancellationToken);
        }

        public Task<string> WriteAsync(GrainId grain, string json, string? expectedEtag, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(grain, json, expectedEtag, cancellationToken);

        public Task DeleteAsync(GrainId grain, string expectedEtag, CancellationToken cancellationToken = default) =>
            inner.DeleteAsync(grain, expectedEtag, cancellationToken);
    }
}

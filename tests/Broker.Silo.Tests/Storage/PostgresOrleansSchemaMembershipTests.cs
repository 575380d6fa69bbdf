using Broker.Testing;

namespace Broker.Silo.Tests.Storage;

/// <summary>
/// Cluster membership through Orleans' own ADO.NET clustering on the project's schema: plain silo hosts
/// over real TCP on loopback find each other only through the membership table.
/// </summary>
public sealed class PostgresOrleansSchemaMembershipTests : IAsyncLifetime
{
    private const int Active = 3; // SiloStatus.Active as stored
    private const int Dead = 6;   // SiloStatus.Dead as stored

    private readonly string _clusterId = "cluster-" + Guid.NewGuid().ToString("N");
    private readonly string _serviceId = "svc-" + Guid.NewGuid().ToString("N");
    private readonly List<OrleansSchemaSilo> _silos = [];
    private OrleansSchemaDatabase _database = null!;

    public async Task InitializeAsync() => _database = await OrleansSchemaDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
            await silo.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Three_silos_form_one_cluster_and_one_stopped_gracefully_is_dead_to_the_others()
    {
        var ports = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            ports.Add(FreePorts.Next());
            _silos.Add(await OrleansSchemaSilo.StartMemberAsync(_database.ConnectionString, _clusterId, _serviceId, ports[i]));
        }

        await Eventually.HoldsAsync(async () => (await PortsWithStatusAsync(Active)).SequenceEqual(ports.Order()), "three Active rows, one per silo");
        await Eventually.HoldsAsync(() => Task.FromResult(_silos.All(s => CountSeen(s, SiloStatus.Active) == 3)), "every silo sees three Active silos");

        var leaving = _silos[2];
        var leavingAddress = leaving.Service<ILocalSiloDetails>().SiloAddress;
        await leaving.StopAsync();

        Assert.Equal([ports[2]], await PortsWithStatusAsync(Dead));
        Assert.Equal(ports.Take(2).Order(), await PortsWithStatusAsync(Active));
        // What a silo reads from the table itself (gossip alone could also tell the others).
        var read = (await _silos[0].Service<IMembershipTable>().ReadAllAsync()).Members
            .ToDictionary(m => m.Item1.SiloAddress.Endpoint.Port, m => m.Item1.Status);
        Assert.Equal(new Dictionary<int, SiloStatus> { [ports[0]] = SiloStatus.Active, [ports[1]] = SiloStatus.Active, [ports[2]] = SiloStatus.Dead }, read);
        await Eventually.HoldsAsync(() => Task.FromResult(_silos.Take(2).All(s =>
                Members(s).TryGetValue(leavingAddress, out var member) && member.Status == SiloStatus.Dead
                && CountSeen(s, SiloStatus.Active) == 2)),
            "the two remaining silos see the stopped one Dead");
    }

    private async Task<List<int>> PortsWithStatusAsync(int status) =>
        (await _database.RowsAsync(
            "SELECT port FROM orleansmembershiptable WHERE deploymentid = $1 AND status = $2 AND address = '127.0.0.1' ORDER BY port",
            _clusterId, status))
        .Select(row => (int)row[0]!).ToList();

    private static IReadOnlyDictionary<SiloAddress, ClusterMember> Members(OrleansSchemaSilo silo) =>
        silo.Service<IClusterMembershipService>().CurrentSnapshot.Members;

    private static int CountSeen(OrleansSchemaSilo silo, SiloStatus status) =>
        Members(silo).Values.Count(m => m.Status == status);
}

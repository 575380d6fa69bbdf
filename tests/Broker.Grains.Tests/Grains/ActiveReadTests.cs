using Broker.Grains.Sessions;
using Broker.Testing.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Broker.Grains.Tests.Grains;

/// <summary>docs/design.md §2, semantics 2: state lives in the activation; a read of an active grain touches no database.</summary>
public sealed class ActiveReadTests
{
    [Fact]
    public async Task Reading_an_active_session_and_its_fresh_token_makes_no_storage_call()
    {
        var calls = new StorageCalls();
        await using var kit = await BrokerGrainsKit.StartAsync(storage: silo =>
        {
            silo.AddMemoryGrainStorage(BrokerStorage.Name);
            // Registered after the memory storage's own registration under the same key, so the grains get this one.
            silo.Services.AddKeyedSingleton<IGrainStorage>(BrokerStorage.Name,
                (services, _) => new CountingGrainStorage(MemoryGrainStorageFactory.Create(services, BrokerStorage.Name), calls));
            silo.UseInMemoryReminderService();
        });
        var beforeLogin = calls.Snapshot();

        var session = await kit.LoginAsync();
        var afterLogin = calls.Snapshot();
        Assert.True(afterLogin.Writes > beforeLogin.Writes, "a login writes the state of the grains it makes");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);
            Assert.IsType<TokenOutcome.Token>(await kit.Session(session).GetTokenAsync(kit.Tenant)); // lives an hour: fresh
        }
        Assert.Equal(afterLogin, calls.Snapshot());

        // What the count would see if a read went to storage: a new activation reads its state once.
        await kit.Cluster.DeactivateAsync(kit.Session(session));
        Assert.Equal("active", (await kit.Session(session).GetAsync(kit.Tenant))!.Status);
        Assert.Equal(afterLogin with { Reads = afterLogin.Reads + 1 }, calls.Snapshot());
    }

    private sealed record StorageCallCounts(int Reads, int Writes, int Clears);

    private sealed class StorageCalls
    {
        private int _reads;
        private int _writes;
        private int _clears;

        public void Read() => Interlocked.Increment(ref _reads);

        public void Write() => Interlocked.Increment(ref _writes);

        public void Clear() => Interlocked.Increment(ref _clears);

        public StorageCallCounts Snapshot() => new(Volatile.Read(ref _reads), Volatile.Read(ref _writes), Volatile.Read(ref _clears));
    }

    /// <summary>The silo's grain storage, counting every call the grains make to it.</summary>
    private sealed class CountingGrainStorage(IGrainStorage inner, StorageCalls calls) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            calls.Read();
            return inner.ReadStateAsync(stateName, grainId, grainState);
        }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
        {
            calls.Read();
            return inner.ReadStateAsync(stateName, grainId, grainState, cancellationToken);
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            calls.Write();
            return inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
        {
            calls.Write();
            return inner.WriteStateAsync(stateName, grainId, grainState, cancellationToken);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            calls.Clear();
            return inner.ClearStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
        {
            calls.Clear();
            return inner.ClearStateAsync(stateName, grainId, grainState, cancellationToken);
        }
    }
}

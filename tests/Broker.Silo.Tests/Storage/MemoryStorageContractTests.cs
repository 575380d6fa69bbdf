using Broker.Grains.Runtime;

namespace Broker.Silo.Tests.Storage;

public sealed class MemoryStorageContractTests : StorageContractTests
{
    protected override Task<(IGrainStateStore, IReminderTable)> CreateStoresAsync() =>
        Task.FromResult<(IGrainStateStore, IReminderTable)>((new MemoryGrainStateStore(), new MemoryReminderTable()));
}

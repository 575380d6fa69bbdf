using System.Security.Cryptography;
using Broker.Silo.Hosting;
using Broker.Silo.Postgres;
using Broker.Testing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Broker.Silo.Tests.Storage;

/// <summary>The key ring every silo shares through PostgreSQL, wrapped by the configured master key.</summary>
public sealed class PostgresDataProtectionTests : IAsyncLifetime
{
    private readonly byte[] _master = RandomNumberGenerator.GetBytes(32);
    private readonly List<ServiceProvider> _silos = [];
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = _database.CreateDataSource();
        await new PostgresMigrator(_dataSource).MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
            await silo.DisposeAsync();
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    private ServiceProvider Silo(byte[] master, params byte[][] previous)
    {
        var services = new ServiceCollection();
        services.AddSingleton(_dataSource);
        services.AddBrokerDataProtection(new MasterKeys(master, previous), keysInPostgres: true);
        var silo = services.BuildServiceProvider();
        _silos.Add(silo);
        return silo;
    }

    private static IDataProtector Protector(ServiceProvider silo) =>
        silo.GetRequiredService<IDataProtectionProvider>().CreateProtector("Broker.Secrets.v1");

    [Fact]
    public async Task What_one_silo_encrypts_another_decrypts_and_the_stored_key_ring_is_wrapped()
    {
        var a = Silo(_master);
        var b = Silo(_master);

        var secret = Protector(a).Protect("client-secret");

        Assert.Equal("client-secret", Protector(b).Unprotect(secret));
        await using var command = _dataSource.CreateCommand("SELECT xml FROM data_protection_keys");
        var xml = (string)(await command.ExecuteScalarAsync())!;
        Assert.Contains("brokerEncryptedKey", xml);
        Assert.DoesNotContain("<masterKey", xml); // Data Protection's own element for the raw key material
    }

    [Fact]
    public void After_a_key_rotation_old_data_stays_readable_and_new_data_uses_the_new_key()
    {
        var a = Silo(_master);
        var old = Protector(a).Protect("before");
        var manager = a.GetRequiredService<IKeyManager>();
        var firstKey = Assert.Single(manager.GetAllKeys()).KeyId;

        var now = DateTimeOffset.UtcNow;
        var newKey = manager.CreateNewKey(now, now.AddDays(90)).KeyId; // activated after the first key: the newest active key encrypts
        var fresh = Protector(Silo(_master)).Protect("after"); // a silo that starts after the rotation

        Assert.Equal(firstKey, KeyIdOf(old));
        Assert.Equal(newKey, KeyIdOf(fresh));
        var other = Silo(_master);
        Assert.Equal("before", Protector(other).Unprotect(old));
        Assert.Equal("after", Protector(other).Unprotect(fresh));
    }

    /// <summary>A protected payload starts with a 4-byte magic header and the 16-byte id of its key.</summary>
    private static Guid KeyIdOf(string payload)
    {
        var bytes = Convert.FromBase64String(payload.Replace('-', '+').Replace('_', '/') + new string('=', (4 - payload.Length % 4) % 4));
        return new Guid(bytes.AsSpan(4, 16));
    }

    [Fact]
    public void A_new_master_key_reads_the_ring_while_the_old_one_is_listed_as_previous()
    {
        var secret = Protector(Silo(_master)).Protect("client-secret");
        var rotated = RandomNumberGenerator.GetBytes(32);

        Assert.Equal("client-secret", Protector(Silo(rotated, _master)).Unprotect(secret));
        var error = Assert.ThrowsAny<CryptographicException>(() => Protector(Silo(rotated)).Unprotect(secret));
        Assert.Contains("master key", error.ToString());
    }
}

using Broker.Silo.Postgres;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Npgsql;

namespace Broker.Silo.Hosting;

/// <summary>
/// The key ring that encrypts client secrets and upstream tokens at rest (docs/design.md §4, §5). On
/// PostgreSQL it lives in the database, wrapped by the master key from configuration, so every silo
/// shares it and a database dump alone is not enough to decrypt. On Memory it lives in the process.
/// </summary>
public static class DataProtectionServices
{
    public const string MasterKeyKey = "Broker:DataProtection:MasterKey";
    public const string PreviousMasterKeysKey = "Broker:DataProtection:PreviousMasterKeys";

    /// <summary>Reads and checks the master keys; null when none is configured.</summary>
    public static MasterKeys? LoadMasterKeys(IConfiguration config, bool required)
    {
        var current = config[MasterKeyKey];
        if (string.IsNullOrWhiteSpace(current))
            return required
                ? throw new ConfigurationException(MasterKeyKey, "is required when Broker:Storage is Postgres (32 random bytes, base64, e.g. `openssl rand -base64 32`).")
                : null;
        var previous = (config[PreviousMasterKeysKey] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new MasterKeys(Decode(MasterKeyKey, current), previous.Select(p => Decode(PreviousMasterKeysKey, p)));
    }

    public static IServiceCollection AddBrokerDataProtection(this IServiceCollection services, MasterKeys? masterKeys, bool keysInPostgres)
    {
        var builder = services.AddDataProtection().SetApplicationName("Broker");
        if (!keysInPostgres)
            return services;
        services.AddSingleton(masterKeys ?? throw new ArgumentNullException(nameof(masterKeys)));
        services.AddOptions<KeyManagementOptions>().Configure<NpgsqlDataSource, MasterKeys>((options, dataSource, keys) =>
        {
            options.XmlRepository = new PostgresXmlRepository(dataSource);
            options.XmlEncryptor = new MasterKeyXmlEncryptor(keys);
        });
        return services;
    }

    private static byte[] Decode(string key, string value)
    {
        var bytes = new byte[64];
        return Convert.TryFromBase64String(value, bytes, out var length) && length == 32
            ? bytes[..32]
            : throw new ConfigurationException(key, "must be 32 bytes in base64 (e.g. `openssl rand -base64 32`).");
    }
}

using System.Globalization;
using Broker.Grains.Runtime;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Broker.Silo.Hosting;

public enum StorageKind { Memory, Postgres }

/// <summary>
/// Everything the silo reads from configuration (DESIGN.md §4), parsed and checked once at start.
/// Each check throws a <see cref="ConfigurationException"/> naming the key, so a bad deployment stops
/// with one clear line instead of failing later in a request.
/// </summary>
public sealed record SiloSettings(
    StorageKind Storage,
    string? ConnectionString,
    ReminderOptions Reminders,
    ActivationOptions Activations)
{
    public static SiloSettings Load(IConfiguration config)
    {
        var storage = ParseStorage(config["Broker:Storage"]);
        var connectionString = config.GetConnectionString("Broker");
        if (storage == StorageKind.Postgres)
            CheckConnectionString(connectionString);
        return new SiloSettings(
            storage,
            connectionString,
            new ReminderOptions
            {
                PollInterval = Seconds(config, "Broker:Reminders:PollIntervalSeconds", 1, min: 0.05, max: 60),
                LeaseTime = Seconds(config, "Broker:Reminders:LeaseSeconds", 10, min: 1, max: 3600),
                BatchSize = (int)Number(config, "Broker:Reminders:BatchSize", 256, min: 1, max: 10_000, whole: true),
                DeliveryParallelism = (int)Number(config, "Broker:Reminders:DeliveryParallelism", 16, min: 1, max: 1024, whole: true),
            },
            new ActivationOptions
            {
                IdleTimeout = Seconds(config, "Broker:Activations:IdleTimeoutSeconds", 120, min: 1, max: 86_400),
                CollectionInterval = Seconds(config, "Broker:Activations:CollectionIntervalSeconds", 30, min: 0.1, max: 3600),
            });
    }

    private static StorageKind ParseStorage(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return StorageKind.Memory;
        return Enum.TryParse<StorageKind>(value, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw new ConfigurationException("Broker:Storage", $"must be Memory or Postgres, not '{value}'.");
    }

    private static void CheckConnectionString(string? value)
    {
        const string key = "ConnectionStrings:Broker";
        if (string.IsNullOrWhiteSpace(value))
            throw new ConfigurationException(key, "is required when Broker:Storage is Postgres.");
        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(value);
            if (string.IsNullOrEmpty(parsed.Host))
                throw new ConfigurationException(key, "has no Host.");
        }
        catch (ArgumentException e)
        {
            // Npgsql's message names the bad keyword, never the password.
            throw new ConfigurationException(key, $"is not a valid PostgreSQL connection string: {e.Message}");
        }
    }

    private static TimeSpan Seconds(IConfiguration config, string key, double fallback, double min, double max) =>
        TimeSpan.FromSeconds(Number(config, key, fallback, min, max, whole: false));

    private static double Number(IConfiguration config, string key, double fallback, double min, double max, bool whole)
    {
        var raw = config[key];
        if (string.IsNullOrEmpty(raw))
            return fallback;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            || (whole && value != Math.Floor(value)) || value < min || value > max)
            throw new ConfigurationException(key, $"must be a {(whole ? "whole " : "")}number from {min} to {max}, not '{raw}'.");
        return value;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using Broker.Api;
using Broker.Silo.Postgres;
using System.Net;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Broker.Silo.Hosting;

public enum StorageKind { Memory, Postgres }

/// <summary>
/// Everything the silo reads from configuration (docs/design.md §4), parsed and checked once at start.
/// Each check throws a <see cref="ConfigurationException"/> naming the key, so a bad deployment stops
/// with one clear line instead of failing later in a request.
/// </summary>
public sealed record SiloSettings(StorageKind Storage, string? ConnectionString, ClusterSettings Cluster)
{
    /// <summary>Admin token, public URL, rate limit, dev IdP and demo switches.</summary>
    public required BrokerApiOptions Api { get; init; }

    /// <summary>Whether plain-http provider URLs are accepted (<c>Broker:AllowHttpUpstreams</c>).</summary>
    public bool AllowHttpUpstreams { get; init; }

    /// <summary>A shared directory holding the Data Protection key ring (e.g. a mounted Secret); null when
    /// the ring lives in PostgreSQL (with <see cref="MasterKeys"/>) or, on Memory, in the process.</summary>
    public string? DataProtectionKeysDirectory { get; init; }

    /// <summary>How long a stopping silo keeps serving with readiness failed (<c>Broker:Shutdown:DrainDelaySeconds</c>).</summary>
    public TimeSpan DrainDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many refreshes this silo runs at once (<c>Broker:Refreshes:MaxConcurrent</c>).</summary>
    public int MaxConcurrentRefreshes { get; init; } = 64;

    /// <summary>The keys that wrap the key ring stored in PostgreSQL.</summary>
    public MasterKeys? MasterKeys { get; init; }

    /// <summary>True when no admin token was configured in Development and one was made up (logged once at start).</summary>
    public bool AdminTokenGenerated { get; init; }

    /// <summary>The host setting that adds the management listener to the configured addresses when
    /// <see cref="BrokerApiOptions.ManagementPort"/> is set (<see cref="ListenAddresses"/>); null: the host's own
    /// addresses, unchanged.</summary>
    public KeyValuePair<string, string>? ListenSetting { get; init; }

    public static SiloSettings Load(IConfiguration config, IHostEnvironment environment)
    {
        var storage = ParseStorage(config["Broker:Storage"]);
        var connectionString = config.GetConnectionString("Broker");
        if (storage == StorageKind.Postgres)
        {
            CheckConnectionString(connectionString);
            connectionString = PostgresConnectionDefaults.Apply(connectionString!);
        }
        var cluster = new ClusterSettings
        {
            ClusterId = Name(config, "Broker:Cluster:ClusterId", "broker"),
            ServiceId = Name(config, "Broker:Cluster:ServiceId", "broker"),
            SiloName = Name(config, "Broker:Cluster:SiloName", Environment.MachineName),
            SiloPort = (int)Number(config, "Broker:Cluster:SiloPort", 11111, min: 1, max: 65_535, whole: true),
            AdvertisedAddress = Address(config, "Broker:Cluster:AdvertisedAddress"),
            ActivationIdleTimeout = Seconds(config, "Broker:Activations:IdleTimeoutSeconds", 120, min: 1, max: 86_400),
            ReminderPeriod = Seconds(config, "Broker:Reminders:PeriodSeconds", 5, min: 1, max: 60),
        };
        var development = environment.IsDevelopment();
        var (adminToken, generated) = AdminToken(config["Broker:AdminToken"], development);
        var devIdp = Flag(config, "Broker:DevIdp:Enabled", development);
        var demo = Flag(config, "Broker:Demo:Enabled", development);
        // The demo tenant signs in with a dev connection, which needs the dev IdP served.
        if (demo && !devIdp)
            throw new ConfigurationException("Broker:Demo:Enabled", "needs Broker:DevIdp:Enabled=true (the demo signs in with the development IdP).");
        var keysDirectory = string.IsNullOrWhiteSpace(config["Broker:DataProtection:KeysDirectory"]) ? null : config["Broker:DataProtection:KeysDirectory"];
        int? managementPort = config["Broker:Management:Port"] is { Length: > 0 } ? (int)Number(config, "Broker:Management:Port", 0, min: 1, max: 65_535, whole: true) : null;
        return new SiloSettings(storage, connectionString, cluster)
        {
            Api = new BrokerApiOptions
            {
                AdminToken = adminToken,
                PreviousAdminTokens = PreviousAdminTokens(config["Broker:PreviousAdminTokens"]),
                PublicBaseUrl = PublicBaseUrl(config, development),
                RateLimitPermitsPerMinute = (int)Number(config, "Broker:RateLimit:PermitsPerMinute", 60, min: 0, max: 1_000_000, whole: true),
                ExchangePermitsPerMinute = (int)Number(config, "Broker:RateLimit:ExchangePermitsPerMinute", 6000, min: 0, max: 10_000_000, whole: true),
                ManagementPort = managementPort,
                DevIdpEnabled = devIdp,
                DemoEnabled = demo,
            },
            AllowHttpUpstreams = Flag(config, "Broker:AllowHttpUpstreams", development),
            DataProtectionKeysDirectory = keysDirectory,
            DrainDelay = Seconds(config, "Broker:Shutdown:DrainDelaySeconds", 2, min: 0, max: 10),
            MaxConcurrentRefreshes = (int)Number(config, "Broker:Refreshes:MaxConcurrent", 64, min: 1, max: 10_000, whole: true),
            MasterKeys = DataProtectionServices.LoadMasterKeys(config, required: storage == StorageKind.Postgres && keysDirectory is null),
            AdminTokenGenerated = generated,
            ListenSetting = managementPort is { } port ? ListenAddresses.WithManagementPort(config, port) : null,
        };
    }

    private static (string Token, bool Generated) AdminToken(string? value, bool development)
    {
        const string key = "Broker:AdminToken";
        if (string.IsNullOrEmpty(value))
        {
            return development
                ? (Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_'), true)
                : throw new ConfigurationException(key, "is required outside Development (at least 16 characters).");
        }
        // The value itself is never echoed: a typo'd secret should not land in a log.
        if (!IsUsableToken(value))
            throw new ConfigurationException(key, $"must be at least 16 characters without spaces (it has {value.Length}).");
        return (value, false);
    }

    /// <summary>Comma-separated, each held to the admin token's rules; empty when not set.</summary>
    private static string[] PreviousAdminTokens(string? value)
    {
        const string key = "Broker:PreviousAdminTokens";
        var tokens = (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = 0; i < tokens.Length; i++)
        {
            if (!IsUsableToken(tokens[i]))
                throw new ConfigurationException(key, $"token {i + 1} must be at least 16 characters without spaces (it has {tokens[i].Length}).");
        }
        return tokens;
    }

    private static bool IsUsableToken(string token) => token.Length >= 16 && !token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));

    private static Uri PublicBaseUrl(IConfiguration config, bool development)
    {
        const string key = "Broker:PublicBaseUrl";
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw))
        {
            if (!development)
                throw new ConfigurationException(key, "is required outside Development (the absolute http(s) URL browsers use to reach the broker).");
            raw = FirstListenAddress(config["urls"]) ?? "http://localhost:5000";
        }
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            throw new ConfigurationException(key, $"must be an absolute http or https URL without query, fragment or credentials, not '{raw}'.");
        // A trailing slash, so that relative paths resolve below it rather than replacing its last segment.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }

    /// <summary>The first ASPNETCORE_URLS address, with a wildcard host made into localhost.</summary>
    private static string? FirstListenAddress(string? urls)
    {
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is null)
            return null;
        foreach (var wildcard in new[] { "://+", "://*", "://0.0.0.0", "://[::]" })
            first = first.Replace(wildcard, "://localhost", StringComparison.Ordinal);
        return first;
    }

    private static bool Flag(IConfiguration config, string key, bool fallback)
    {
        var raw = config[key];
        if (string.IsNullOrEmpty(raw))
            return fallback;
        return bool.TryParse(raw, out var value)
            ? value
            : throw new ConfigurationException(key, $"must be true or false, not '{raw}'.");
    }

    /// <summary>An id Orleans writes into membership and storage rows: short, no spaces.</summary>
    private static string Name(IConfiguration config, string key, string fallback)
    {
        var raw = config[key];
        if (string.IsNullOrEmpty(raw))
            return fallback;
        return raw.Length <= 100 && raw.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? raw
            : throw new ConfigurationException(key, $"must be 1 to 100 letters, digits, '-', '_' or '.', not '{raw}'.");
    }

    private static IPAddress Address(IConfiguration config, string key)
    {
        var raw = config[key];
        if (string.IsNullOrEmpty(raw))
            return IPAddress.Loopback;
        return IPAddress.TryParse(raw, out var address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any)
            ? address
            : throw new ConfigurationException(key, $"must be the IP address other silos reach this one at (on Kubernetes the pod IP), not '{raw}'.");
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

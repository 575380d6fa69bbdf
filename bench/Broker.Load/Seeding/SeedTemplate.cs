using System.Text.Json.Nodes;
using Broker.Load.Upstream;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace Broker.Load.Seeding;

/// <summary>
/// A session the silo itself wrote, after a real login: seeded sessions are copies of its state with their
/// own ids, users, tokens and times, so they are in exactly the format the silo reads. Reading it checks
/// the seeder's key and hash computations and its Data Protection set-up against what the silo did.
/// </summary>
public sealed class SeedTemplate
{
    private static readonly string[] Fields = ["status", "tenantId", "tenantIncarnation", "connectionId", "user", "protectedAccessToken",
        "protectedRefreshToken", "accessTokenIssuedAt", "accessTokenExpiresAt", "refreshLeadSeconds", "lifetimeSeconds", "createdAt"];

    public required JsonObject State { get; init; }
    public required string ServiceId { get; init; }
    public required string StateName { get; init; }
    public required string ReminderName { get; init; }
    public required long ReminderPeriodMs { get; init; }
    public required string TenantId { get; init; }
    public required string Incarnation { get; init; }
    public required string Connection { get; init; }

    public int RefreshLeadSeconds => (int)State["refreshLeadSeconds"]!;

    public static async Task<SeedTemplate> ReadAsync(NpgsqlDataSource db, string sessionId, IDataProtector protector, SealedTokens sealer)
    {
        var key = OrleansKeys.Key(sessionId);
        var (grainId, grainHash) = OrleansKeys.Reminder(key);
        await using var storage = db.CreateCommand("""
            SELECT payloadbinary, grainidhash, graintypehash, graintypestring, serviceid, grainidn0, grainidn1, version
            FROM orleansstorage WHERE grainidextensionstring = $1
            """);
        storage.Parameters.Add(new() { Value = key });
        await using var row = await storage.ExecuteReaderAsync();
        if (!await row.ReadAsync())
            throw new InvalidOperationException($"no orleansstorage row with grainidextensionstring {key}");
        var state = System.Text.Json.JsonSerializer.Deserialize<JsonObject>(row.GetFieldValue<byte[]>(0))!;
        var stateName = row.GetString(3);
        Check("grainidhash", row.GetInt32(1), OrleansKeys.StorageIdHash(key));
        Check("graintypehash", row.GetInt32(2), OrleansKeys.StorageTypeHash(stateName));
        Check("grainidn0/n1", (row.GetInt64(5), row.GetInt64(6)), (0L, 0L));
        var serviceId = row.GetString(4);

        await using var reminder = db.CreateCommand("SELECT remindername, period, grainhash, serviceid FROM orleansreminderstable WHERE grainid = $1");
        reminder.Parameters.Add(new() { Value = grainId });
        await using var reminderRow = await reminder.ExecuteReaderAsync();
        if (!await reminderRow.ReadAsync())
            throw new InvalidOperationException($"no orleansreminderstable row with grainid {grainId}");
        Check("grainhash", reminderRow.GetInt32(2), grainHash);
        Check("reminder serviceid", reminderRow.GetString(3), serviceId);

        foreach (var field in Fields.Where(f => !state.ContainsKey(f)))
            throw new InvalidOperationException($"the session state has no '{field}': SessionState changed, and the seeder must follow");
        // Our key ring, application name and purpose read what the silo protected.
        var accessToken = sealer.Unseal(protector.Unprotect((string)state["protectedAccessToken"]!));
        Check("the template's access token, unprotected and unsealed", (string?)accessToken?["t"], "at");

        return new SeedTemplate
        {
            State = state,
            ServiceId = serviceId,
            StateName = stateName,
            ReminderName = reminderRow.GetString(0),
            ReminderPeriodMs = reminderRow.GetInt64(1),
            TenantId = (string)state["tenantId"]!,
            Incarnation = (string)state["tenantIncarnation"]!,
            Connection = (string)state["connectionId"]!,
        };
    }

    private static void Check<T>(string what, T actual, T computed)
    {
        if (!EqualityComparer<T>.Default.Equals(actual, computed))
            throw new InvalidOperationException($"seeding would be wrong: {what} is {actual} in the silo's row, the seeder computes {computed}");
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Load.Upstream;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;
using NpgsqlTypes;

namespace Broker.Load.Seeding;

/// <summary>A seeded session kept aside to read back through the REST API, with what it must show.</summary>
public sealed record Probe(string SessionId, string Subject, string AccessToken, DateTimeOffset AccessTokenExpiresAt);

/// <summary>
/// Writes sessions straight into PostgreSQL, as the silo would have after that many logins: the grain state
/// (orleansstorage), the session's reminder (orleansreminderstable) and its index row (broker_sessions), each
/// with a binary COPY. Tokens are sealed for the fast upstream and protected with the silos' key ring.
/// Write it while no silo runs: a silo reads its reminders at start (then every 5 minutes).
/// </summary>
public sealed class SessionSeeder(NpgsqlDataSource db, SeedTemplate template, IDataProtector protector, SealedTokens sealer, string clientId)
{
    private const int Batch = 4096;

    /// <summary>
    /// Seeds <paramref name="count"/> sessions whose refresh comes due at <paramref name="dueAt"/>(i), plus
    /// <paramref name="probes"/> more due six hours later. With <paramref name="dueInToken"/> each refresh token
    /// carries its session's due time, for the upstream's lag log.
    /// </summary>
    public async Task<List<Probe>> SeedAsync(int count, Func<int, DateTimeOffset> dueAt, bool dueInToken, int probes, CancellationToken cancellationToken)
    {
        var total = count + probes;
        var ids = new string[total];
        var dues = new DateTimeOffset[total];
        var users = new string[total];
        var probeTokens = new string[probes];
        var now = DateTimeOffset.UtcNow;
        var stopwatch = Stopwatch.StartNew();

        await using (var connection = await db.OpenConnectionAsync(cancellationToken))
        await using (var state = await connection.BeginBinaryImportAsync("""
            COPY orleansstorage (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring,
                                 serviceid, payloadbinary, modifiedon, version) FROM STDIN (FORMAT BINARY)
            """, cancellationToken))
        {
            var typeHash = OrleansKeys.StorageTypeHash(template.StateName);
            for (var start = 0; start < total; start += Batch)
            {
                var n = Math.Min(Batch, total - start);
                var payloads = new byte[n][];
                Parallel.For(0, n, new ParallelOptions { CancellationToken = cancellationToken }, j =>
                {
                    var i = start + j;
                    ids[i] = Base64Url(RandomNumberGenerator.GetBytes(32));
                    users[i] = "usr_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                    dues[i] = i < count ? dueAt(i) : now.AddHours(6);
                    payloads[j] = Payload(i, ids[i], users[i], dues[i], now, dueInToken && i < count, out var accessToken);
                    if (i >= count)
                        probeTokens[i - count] = accessToken;
                });
                for (var j = 0; j < n; j++)
                {
                    var key = OrleansKeys.Key(ids[start + j]);
                    await state.StartRowAsync(cancellationToken);
                    await state.WriteAsync(OrleansKeys.StorageIdHash(key), NpgsqlDbType.Integer, cancellationToken);
                    await state.WriteAsync(0L, NpgsqlDbType.Bigint, cancellationToken);
                    await state.WriteAsync(0L, NpgsqlDbType.Bigint, cancellationToken);
                    await state.WriteAsync(typeHash, NpgsqlDbType.Integer, cancellationToken);
                    await state.WriteAsync(template.StateName, NpgsqlDbType.Varchar, cancellationToken);
                    await state.WriteAsync(key, NpgsqlDbType.Varchar, cancellationToken);
                    await state.WriteAsync(template.ServiceId, NpgsqlDbType.Varchar, cancellationToken);
                    await state.WriteAsync(payloads[j], NpgsqlDbType.Bytea, cancellationToken);
                    await state.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
                    await state.WriteAsync(1, NpgsqlDbType.Integer, cancellationToken);
                }
                if ((start / Batch) % 25 == 24)
                    Console.Error.WriteLine($"# seeded {start + n} of {total} session states ({(start + n) / stopwatch.Elapsed.TotalSeconds:F0}/s)");
            }
            await state.CompleteAsync(cancellationToken);
        }

        await using (var connection = await db.OpenConnectionAsync(cancellationToken))
        {
            await using (var reminders = await connection.BeginBinaryImportAsync(
                "COPY orleansreminderstable (serviceid, grainid, remindername, starttime, period, grainhash, version) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                for (var i = 0; i < total; i++)
                {
                    var (grainId, hash) = OrleansKeys.Reminder(OrleansKeys.Key(ids[i]));
                    await reminders.WriteRowAsync(cancellationToken, template.ServiceId, grainId, template.ReminderName, dues[i], template.ReminderPeriodMs, hash, 0);
                }
                await reminders.CompleteAsync(cancellationToken);
            }
            await using (var index = await connection.BeginBinaryImportAsync(
                "COPY broker_sessions (session_id, tenant_id, incarnation, connection, user_id, created_at) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                for (var i = 0; i < total; i++)
                    await index.WriteRowAsync(cancellationToken, ids[i], template.TenantId, template.Incarnation, template.Connection, users[i], now);
                await index.CompleteAsync(cancellationToken);
            }
            // As autovacuum would have by the time a real deployment holds this many rows.
            await using var analyze = new NpgsqlCommand("ANALYZE orleansstorage, orleansreminderstable, broker_sessions", connection);
            await analyze.ExecuteNonQueryAsync(cancellationToken);
        }
        Console.Error.WriteLine($"# seeded {total} sessions in {stopwatch.Elapsed.TotalSeconds:F1} s");
        return [.. Enumerable.Range(count, probes).Select(i => new Probe(ids[i], Subject(i), probeTokens[i - count], AccessTokenExpiresAt(dues[i])))];
    }

    private byte[] Payload(int i, string sessionId, string userId, DateTimeOffset due, DateTimeOffset now, bool dueInToken, out string accessToken)
    {
        var state = template.State.DeepClone().AsObject();
        var subject = Subject(i);
        var user = state["user"]!.AsObject();
        user["id"] = userId;
        user["subject"] = subject;
        user["name"] = "User " + subject;
        user["email"] = subject + "@example.test";
        if (user["raw"] is JsonObject raw)
        {
            raw["sub"] = subject;
            raw["name"] = "User " + subject;
            raw["email"] = subject + "@example.test";
        }
        var expires = AccessTokenExpiresAt(due);
        var scope = (string?)state["scope"] ?? "openid profile email";
        accessToken = sealer.Seal(new JsonObject { ["t"] = "at", ["sub"] = subject, ["cid"] = clientId, ["exp"] = expires.ToUnixTimeSeconds(), ["n"] = sessionId[..8] });
        var refresh = new JsonObject { ["t"] = "rt", ["sub"] = subject, ["cid"] = clientId, ["scope"] = scope, ["sid"] = sessionId };
        if (dueInToken)
            refresh["due"] = due.ToUnixTimeMilliseconds();
        state["protectedAccessToken"] = protector.Protect(accessToken);
        state["protectedRefreshToken"] = protector.Protect(sealer.Seal(refresh));
        // An hour-long token issued an hour before it expires: the refresh is due `lead` before expiry,
        // which is the due time asked for (SessionSchedule.RefreshDueAt).
        state["accessTokenIssuedAt"] = expires.AddHours(-1);
        state["accessTokenExpiresAt"] = expires;
        state["createdAt"] = now;
        state["refreshedAt"] = null;
        return JsonSerializer.SerializeToUtf8Bytes(state);
    }

    private DateTimeOffset AccessTokenExpiresAt(DateTimeOffset due) => due.AddSeconds(template.RefreshLeadSeconds);

    private static string Subject(int i) => "seed-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

using System.Globalization;
using System.Text.Json.Nodes;

namespace Broker.Load;

public enum Storage { Memory, Postgres }

/// <summary>What one run measures and at what size; parsed from the command line (see Usage).</summary>
public sealed record LoadOptions
{
    public const string Usage = """
        Broker.Load login|token|refresh|memory|ceiling [options]
          --vus N           virtual users (32)
          --duration S      measured seconds (20), after --warmup S (3)
          --storage memory|postgres   login, token (memory); refresh and memory are always postgres
          --silos 1|2       silos (1); 2 needs postgres, and requests are spread over both
          --sessions N      token: warm sessions (500); refresh, memory: seeded sessions (100000)
          --large           refresh, memory: 1000000 sessions
          --window S        refresh: the seeded access tokens come due within S seconds (60)
          --due-in S        refresh: the window opens S seconds after seeding starts (60 + sessions/1500)
          --max-wait S      refresh: give up S seconds after the window closed (900)
          --wait S          memory: how long each silo runs before it is measured (330)
          --pg CONNSTR      use this PostgreSQL server (a role that may CREATE DATABASE; also env
                            BROKER_LOAD_PG) instead of starting one with scripts/pg.sh
          --keep-logs       keep the run's directory (silo and upstream logs) and print where it is
        """;

    public required string Scenario { get; init; }
    public int Vus { get; init; } = 32;
    public double DurationSeconds { get; init; } = 20;
    public double WarmupSeconds { get; init; } = 3;
    public Storage Storage { get; init; } = Storage.Memory;
    public int Silos { get; init; } = 1;
    public int Sessions { get; init; }
    public double WindowSeconds { get; init; } = 60;
    public double? DueInSeconds { get; init; }
    public double MaxWaitSeconds { get; init; } = 900;
    public double WaitSeconds { get; init; } = 330;
    public string? Postgres { get; init; }
    public bool KeepLogs { get; init; }

    public static LoadOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("login" or "token" or "refresh" or "memory" or "ceiling"))
            throw new ArgumentException("the first argument names the scenario");
        var o = new LoadOptions { Scenario = args[0], Postgres = Environment.GetEnvironmentVariable("BROKER_LOAD_PG") };
        var large = false;
        int? sessions = null;
        for (var i = 1; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Number() => double.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : throw new ArgumentException($"{args[i - 1]} needs a number");
            switch (args[i])
            {
                case "--large":
                    large = true;
                    break;
                case "--sessions":
                    sessions = Math.Max(1, (int)Number());
                    break;
                default:
                    o = args[i] switch
                    {
                        "--vus" => o with { Vus = Math.Max(1, (int)Number()) },
                        "--duration" => o with { DurationSeconds = Number() },
                        "--warmup" => o with { WarmupSeconds = Number() },
                        "--storage" => o with { Storage = Next() switch { "memory" => Storage.Memory, "postgres" => Storage.Postgres, var s => throw new ArgumentException($"--storage {s}?") } },
                        "--silos" => o with { Silos = (int)Number() is var n && n is 1 or 2 ? n : throw new ArgumentException("--silos is 1 or 2") },
                        "--window" => o with { WindowSeconds = Math.Max(1, Number()) },
                        "--due-in" => o with { DueInSeconds = Number() },
                        "--max-wait" => o with { MaxWaitSeconds = Number() },
                        "--wait" => o with { WaitSeconds = Number() },
                        "--pg" => o with { Postgres = Next() },
                        "--keep-logs" => o with { KeepLogs = true },
                        var other => throw new ArgumentException($"unknown option {other}"),
                    };
                    break;
            }
        }
        if (o.Scenario is "refresh" or "memory")
            o = o with { Storage = Storage.Postgres };
        o = o with { Sessions = sessions ?? (o.Scenario == "token" ? 500 : large ? 1_000_000 : 100_000) };
        if (o.Silos == 2 && o.Storage == Storage.Memory)
            throw new ArgumentException("--silos 2 needs --storage postgres (Memory storage is one process)");
        return o;
    }

    /// <summary>The options that shape this scenario's figures, for the JSON line.</summary>
    public JsonObject Describe() => Scenario switch
    {
        "login" => new() { ["vus"] = Vus, ["durationSeconds"] = DurationSeconds, ["warmupSeconds"] = WarmupSeconds, ["storage"] = Name(Storage), ["silos"] = Silos },
        "token" => new() { ["vus"] = Vus, ["durationSeconds"] = DurationSeconds, ["warmupSeconds"] = WarmupSeconds, ["storage"] = Name(Storage), ["silos"] = Silos, ["sessions"] = Sessions },
        "refresh" => new() { ["storage"] = "postgres", ["silos"] = Silos, ["sessions"] = Sessions, ["windowSeconds"] = WindowSeconds, ["maxWaitSeconds"] = MaxWaitSeconds },
        "memory" => new() { ["storage"] = "postgres", ["silos"] = 1, ["sessions"] = Sessions, ["waitSeconds"] = WaitSeconds, ["gcServer"] = false },
        _ => new() { ["vus"] = Vus, ["durationSeconds"] = DurationSeconds, ["warmupSeconds"] = WarmupSeconds },
    };

    private static string Name(Storage storage) => storage == Storage.Memory ? "memory" : "postgres";
}

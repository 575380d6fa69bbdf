using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Load;
using Broker.Load.Measure;
using Broker.Load.Rig;
using Broker.Load.Scenarios;

// Starts what it measures on loopback, measures, stops it all, and prints ONE JSON line on stdout
// (progress goes to stderr as "# ..." lines). bench/README.md says what each figure means.
LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

using var interrupted = new CancellationTokenSource();
// Ctrl+C and SIGTERM cancel the run, so that everything it started is stopped on the way out.
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; interrupted.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; interrupted.Cancel(); });
AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();

var date = DateTimeOffset.UtcNow;
var started = Stopwatch.GetTimestamp();
try
{
    var result = options.Scenario switch
    {
        "login" => await LoginScenario.RunAsync(options, interrupted.Token),
        "token" => await TokenScenario.RunAsync(options, interrupted.Token),
        "refresh" => await RefreshScenario.RunAsync(options, interrupted.Token),
        "memory" => await MemoryScenario.RunAsync(options, interrupted.Token),
        _ => await CeilingScenario.RunAsync(options, interrupted.Token),
    };
    Console.WriteLine(new JsonObject
    {
        ["scenario"] = options.Scenario,
        ["options"] = options.Describe(),
        ["machine"] = RunInfo.Machine(),
        ["commit"] = RunInfo.Commit(),
        ["date"] = date.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        ["wallSeconds"] = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 1),
        ["result"] = result,
    }.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    return 0;
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    Console.Error.WriteLine("# interrupted; everything started was stopped");
    return 130;
}
catch (Exception e)
{
    Console.Error.WriteLine($"# failed: {e}");
    return 1;
}

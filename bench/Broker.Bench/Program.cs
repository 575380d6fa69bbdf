using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Broker.Bench.GrainTurnBenchmarks).Assembly).Run(args);

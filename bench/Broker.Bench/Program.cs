using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Broker.Bench.TenantAccessBenchmarks).Assembly).Run(args);

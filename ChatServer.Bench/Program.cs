using BenchmarkDotNet.Running;

namespace ChatServer.Bench;

internal static class BenchProgram
{
    public static void Main(string[] args)
    {
        var types = typeof(BenchProgram).Assembly.GetTypes().Where(t => t.IsPublic && t.Name.EndsWith("Benchmarks", StringComparison.Ordinal)).ToList();
        if (Environment.GetEnvironmentVariable("CHAT_BENCH_POSTGRES") is null)
        {
            // The write-behind benchmark needs a PostgreSQL it may create tables in; say so instead of failing it.
            types.Remove(typeof(PostgresDrainBenchmarks));
            Console.WriteLine("PostgresDrainBenchmarks skipped: set CHAT_BENCH_POSTGRES to a PostgreSQL connection string to run it.");
        }

        BenchmarkSwitcher.FromTypes([.. types]).Run(args);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ChatLoad;

/// <summary>One share of the clients: in this process, or in a worker process driven over stdin/stdout.</summary>
internal abstract class Share : IAsyncDisposable
{
    public abstract Snapshot? Latest { get; }

    /// <summary>Runs one command (CONNECT, RUN, DROP, RESUME, RESULT) and returns its answer.</summary>
    public abstract Task<string> CommandAsync(string command);

    public abstract ValueTask DisposeAsync();

    /// <summary>The command interpreter shared by in-process shares and worker processes.</summary>
    public static async Task<string> ExecuteAsync(Runner runner, LoadOptions o, string command)
    {
        switch (command)
        {
            case "CONNECT":
                await runner.ConnectAllAsync(resume: false).ConfigureAwait(false);
                return "OK";
            case "RUN":
                await runner.RunLoadAsync(TimeSpan.FromSeconds(o.DurationSeconds)).ConfigureAwait(false);
                return "OK";
            case "DROP":
                await runner.DropAllAsync().ConfigureAwait(false);
                return "OK";
            case "RESUME":
                double ms = await runner.ResumeAllAsync().ConfigureAwait(false);
                return ms.ToString("R", CultureInfo.InvariantCulture);
            default:
                return "unknown command " + command;
        }
    }
}

internal sealed class LocalShare(Runner runner, LoadOptions o) : Share
{
    private double _syncedMs;

    public override Snapshot? Latest => runner.Snap();

    public override async Task<string> CommandAsync(string command)
    {
        if (command == "RESULT") return JsonSerializer.Serialize(runner.Result(_syncedMs));
        string answer = await ExecuteAsync(runner, o, command).ConfigureAwait(false);
        if (command == "RESUME") _syncedMs = double.Parse(answer, CultureInfo.InvariantCulture);
        return answer;
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A worker process (this same executable with --worker-index), so more sockets than one process may open.</summary>
internal sealed class RemoteShare : Share
{
    private readonly Process _process;
    private readonly SemaphoreSlim _one = new(1);
    private TaskCompletionSource<string>? _pending;
    private Snapshot? _latest;

    public RemoteShare(LoadOptions o, string planFile, int index, string[] originalArgs)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in originalArgs) psi.ArgumentList.Add(a);
        foreach (string a in new[] { "--worker-index", index.ToString(CultureInfo.InvariantCulture), "--workers", o.Workers.ToString(CultureInfo.InvariantCulture), "--plan", planFile, "--run-id", o.RunId })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
        _ = Task.Run(ReadAsync);
    }

    public override Snapshot? Latest => Volatile.Read(ref _latest);

    public override async Task<string> CommandAsync(string command)
    {
        await _one.WaitAsync().ConfigureAwait(false);
        try
        {
            _pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            await _process.StandardInput.WriteLineAsync(command).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
            return await _pending.Task.ConfigureAwait(false);
        }
        finally
        {
            _one.Release();
        }
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("P ", StringComparison.Ordinal)) Volatile.Write(ref _latest, JsonSerializer.Deserialize<Snapshot>(line.AsSpan(2)));
            else if (line.StartsWith("A ", StringComparison.Ordinal)) _pending?.TrySetResult(line[2..]);
            else Console.Error.WriteLine(line);
        }

        _pending?.TrySetException(new InvalidOperationException("worker exited"));
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await _process.StandardInput.WriteLineAsync("QUIT").ConfigureAwait(false);
            await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
        _one.Dispose();
    }

    /// <summary>The worker side: reads commands from stdin, answers "A ...", prints "P {snapshot}" twice a second.</summary>
    public static async Task<int> WorkerMainAsync(LoadOptions o)
    {
        var plan = System.Text.Json.JsonSerializer.Deserialize<Plan>(await File.ReadAllTextAsync(o.PlanFile!).ConfigureAwait(false))!;
        var runner = new Runner(o, plan, o.WorkerIndex, o.Workers, o.RunId);
        var output = Console.Out;
        var gate = new object();
        using var timer = new Timer(_ =>
        {
            string json = JsonSerializer.Serialize(runner.Snap());
            lock (gate) output.WriteLine("P " + json);
        }, null, 500, 500);
        double syncedMs = 0;
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } command && command != "QUIT")
        {
            string answer;
            if (command == "RESULT")
            {
                answer = JsonSerializer.Serialize(runner.Result(syncedMs));
            }
            else
            {
                answer = await ExecuteAsync(runner, o, command).ConfigureAwait(false);
                if (command == "RESUME") syncedMs = double.Parse(answer, CultureInfo.InvariantCulture);
            }

            lock (gate)
            {
                output.WriteLine("A " + answer);
                output.Flush();
            }
        }

        return 0;
    }
}

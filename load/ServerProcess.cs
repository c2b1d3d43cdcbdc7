using System.Diagnostics;
using System.Net;

namespace ChatLoad;

/// <summary>The server under test: started by the tool (and stopped by it) or attached to by pid.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process? _process;

    private ServerProcess(Process? process, int pid)
    {
        _process = process;
        Pid = pid;
    }

    public int Pid { get; }

    public static ServerProcess Attach(int pid) => new(null, pid);

    /// <summary>Starts the binary with the tool's listeners and data directory plus extra flags; waits for /healthz.</summary>
    public static async Task<ServerProcess> StartAsync(LoadOptions o, IEnumerable<string> extra, string logName)
    {
        foreach (var endpoint in new[] { o.Http, o.Gateway })
        {
            using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(endpoint).ConfigureAwait(false);
                throw new InvalidOperationException($"{endpoint} is already in use (another server still running?); the tool starts its own");
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
        }

        var psi = new ProcessStartInfo(o.ServerPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--data", o.DataDir, "--http", o.Http.ToString(), "--gateway", o.Gateway.ToString(), "--Auth:AccessTokenSeconds=86400" }) psi.ArgumentList.Add(a);
        foreach (string a in extra) psi.ArgumentList.Add(a);
        foreach (string a in o.ServerArgs) psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + o.ServerPath);
        var log = new StreamWriter(Path.Combine(o.DataDir, logName), append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, process.Id);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"server exited with {process.ExitCode}; see {Path.Combine(o.DataDir, logName)}");
            try
            {
                using var r = await http.GetAsync(new Uri($"http://{o.Http}/healthz")).ConfigureAwait(false);
                if (r.IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException("server not healthy after 120 s");
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public double CpuSeconds() => ProcStats.CpuSeconds(Pid);

    public long RssBytes() => ProcStats.StatusBytes(Pid, "VmRSS");

    public long PeakRssBytes() => ProcStats.StatusBytes(Pid, "VmHWM");

    /// <summary>Stops a server this tool started: SIGTERM (graceful: flush, checkpoint), then kill after 60 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is null || _process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().ConfigureAwait(false);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    public static IPEndPoint Parse(string s) => IPEndPoint.Parse(s);
}

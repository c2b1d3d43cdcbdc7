using System.Diagnostics;
using ChatServer.Client;

namespace ChatServer.Tests.Support;

/// <summary>
/// The server as a separate OS process (the chatserver.dll built beside the tests), for tests that kill it
/// with SIGKILL and restart it on the same data directory.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private Process? _process;

    public ServerProcess(string dataDirectory, Dictionary<string, string?>? settings = null)
    {
        DataDirectory = dataDirectory;
        Settings = TestServer.FastSettings();
        if (settings is not null)
        {
            foreach (var (k, v) in settings) Settings[k] = v;
        }
    }

    public string DataDirectory { get; }

    public Dictionary<string, string?> Settings { get; }

    public Uri HttpUri { get; private set; } = null!;

    public Uri GatewayUri { get; private set; } = null!;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The last lines the process wrote (stdout and stderr), for failure messages.</summary>
    public string LastOutput
    {
        get
        {
            lock (_output) return string.Join('\n', _output);
        }
    }

    private readonly Queue<string> _output = new();

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Enqueue(line.Length > 2000 ? line[..2000] : line);
            while (_output.Count > 40) _output.Dequeue();
        }
    }

    /// <summary>Starts the process on fresh ports and waits until /healthz answers (new ports if another test took them).</summary>
    public async Task StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartOnceAsync();
                return;
            }
            catch (InvalidOperationException ex) when (attempt < 4 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                Kill();
            }
        }
    }

    private async Task StartOnceAsync()
    {
        var httpPort = TestServer.FreePort();
        var gatewayPort = TestServer.FreePort();
        HttpUri = new Uri($"http://127.0.0.1:{httpPort}/");
        GatewayUri = new Uri($"ws://127.0.0.1:{gatewayPort}/v1/ws");
        var dll = Path.Combine(AppContext.BaseDirectory, "chatserver.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--data");
        psi.ArgumentList.Add(DataDirectory);
        psi.ArgumentList.Add("--http");
        psi.ArgumentList.Add($"127.0.0.1:{httpPort}");
        psi.ArgumentList.Add("--gateway");
        psi.ArgumentList.Add($"127.0.0.1:{gatewayPort}");
        foreach (var (k, v) in Settings)
        {
            if (v is not null) psi.ArgumentList.Add($"--{k}={v}");
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the server process");
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                process.WaitForExit();
                throw new InvalidOperationException($"the server process exited with {process.ExitCode}; its last output:\n{LastOutput}");
            }
            try
            {
                using var response = await _http.GetAsync(new Uri(HttpUri, "healthz"));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the server process did not become healthy within 60 s");
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGTERM, then wait for the graceful shutdown.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(cts.Token);
        }

        _process.Dispose();
        _process = null;
    }

    public ChatHttpClient NewHttp() => new(_http, HttpUri);

    public async ValueTask DisposeAsync()
    {
        Kill();
        _http.Dispose();
        await Task.CompletedTask;
    }
}

using System.Diagnostics;
using System.Globalization;

namespace ChatLoad;

/// <summary>CPU and memory of a process by pid, and the kernel's memory, from /proc.</summary>
internal static class ProcStats
{
    private const double ClockTicks = 100.0;

    /// <summary>User + system CPU seconds of the process (/proc/PID/stat fields 14 and 15).</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / ClockTicks;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>A kB field of /proc/PID/status (VmRSS, VmHWM), in bytes.</summary>
    public static long StatusBytes(int pid, string field)
    {
        try
        {
            return KbField(File.ReadLines($"/proc/{pid}/status"), field);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>A kB field of /proc/meminfo (Slab, SUnreclaim), in bytes.</summary>
    public static long MemInfoBytes(string field) => KbField(File.ReadLines("/proc/meminfo"), field);

    /// <summary>The kernel's TCP buffer memory (/proc/net/sockstat "TCP: ... mem PAGES"), in bytes.</summary>
    public static long TcpBufferBytes()
    {
        foreach (string line in File.ReadLines("/proc/net/sockstat"))
        {
            if (!line.StartsWith("TCP:", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int i = Array.IndexOf(parts, "mem");
            if (i > 0) return long.Parse(parts[i + 1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }

        return 0;
    }

    public static double OwnCpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    private static long KbField(IEnumerable<string> lines, string field)
    {
        foreach (string line in lines)
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return -1;
    }
}

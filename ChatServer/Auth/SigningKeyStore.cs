using System.Security.Cryptography;

namespace ChatServer.Auth;

/// <summary>Where the HS256 signing key comes from: the configuration, or a key file kept in the data directory.</summary>
internal static class SigningKeyStore
{
    public const string FileName = "signing.key";

    /// <summary>Length of a generated key: 64 bytes, the HMAC-SHA-256 block size (RFC 2104 §3: longer keys add nothing).</summary>
    public const int GeneratedKeyBytes = 64;

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Returns the configured key when there is one (base64 of at least <see cref="TokenService.MinKeyBytes"/> bytes, else
    /// <see cref="ArgumentException"/>); otherwise the key in <c>&lt;dataDirectory&gt;/signing.key</c>, generating it on first
    /// use: written to a temporary file with mode 0600 and renamed into place, so a crash never leaves half a key and
    /// processes starting together agree on the first one written.
    /// </summary>
    public static byte[] LoadOrCreate(string? configuredKeyBase64, string dataDirectory)
    {
        if (!string.IsNullOrEmpty(configuredKeyBase64))
        {
            return Decode(configuredKeyBase64)
                ?? throw new ArgumentException(
                    $"Auth:SigningKey must be base64 of at least {TokenService.MinKeyBytes} bytes.", nameof(configuredKeyBase64));
        }

        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        string path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            return ReadKeyFile(path);
        }

        Directory.CreateDirectory(dataDirectory);
        byte[] key = RandomNumberGenerator.GetBytes(GeneratedKeyBytes);
        string temporary = Path.Combine(dataDirectory, $"{FileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            WritePrivateFile(temporary, Convert.ToBase64String(key) + "\n");
            try
            {
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process generated the key first: use theirs.
                return ReadKeyFile(path);
            }
        }
        finally
        {
            File.Delete(temporary);
        }

        return key;
    }

    private static byte[] ReadKeyFile(string path) =>
        Decode(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path} must hold base64 of at least {TokenService.MinKeyBytes} bytes.");

    private static byte[]? Decode(string base64)
    {
        try
        {
            byte[] key = Convert.FromBase64String(base64.Trim());
            return key.Length >= TokenService.MinKeyBytes ? key : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static void WritePrivateFile(string path, string contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerReadWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(contents);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            // The create mode passes through the umask; set it exactly.
            File.SetUnixFileMode(path, OwnerReadWrite);
        }
    }
}

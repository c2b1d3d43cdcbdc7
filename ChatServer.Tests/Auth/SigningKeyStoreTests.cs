using ChatServer.Auth;

namespace ChatServer.Tests.Auth;

public sealed class SigningKeyStoreTests : IDisposable
{
    private readonly DirectoryInfo _dataDirectory = Directory.CreateTempSubdirectory("chatserver-auth-");

    public void Dispose() => _dataDirectory.Delete(recursive: true);

    [Fact]
    public void Generated_key_is_written_with_mode_0600_and_reused_on_the_next_call()
    {
        byte[] first = SigningKeyStore.LoadOrCreate(null, _dataDirectory.FullName);
        byte[] second = SigningKeyStore.LoadOrCreate(null, _dataDirectory.FullName);

        string path = Path.Combine(_dataDirectory.FullName, "signing.key");
        Assert.Equal(64, first.Length);
        Assert.Equal(first, second);
        Assert.Equal(first, Convert.FromBase64String(File.ReadAllText(path)));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.Equal(["signing.key"], _dataDirectory.GetFiles().Select(f => f.Name));
    }

    [Fact]
    public void Missing_data_directory_is_created()
    {
        string nested = Path.Combine(_dataDirectory.FullName, "a", "b");

        byte[] key = SigningKeyStore.LoadOrCreate(null, nested);

        Assert.Equal(key, SigningKeyStore.LoadOrCreate(null, nested));
    }

    [Fact]
    public void Configured_key_is_used_and_no_file_is_written()
    {
        byte[] configured = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        byte[] key = SigningKeyStore.LoadOrCreate(Convert.ToBase64String(configured), _dataDirectory.FullName);

        Assert.Equal(configured, key);
        Assert.Empty(_dataDirectory.GetFiles());
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("   ")]
    public void Bad_configured_key_throws_naming_the_setting(string configured)
    {
        var error = Assert.Throws<ArgumentException>(() => SigningKeyStore.LoadOrCreate(configured, _dataDirectory.FullName));

        Assert.Contains("Auth:SigningKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_key_file_is_an_error_rather_than_silently_replaced()
    {
        string path = Path.Combine(_dataDirectory.FullName, "signing.key");
        File.WriteAllText(path, "c2hvcnQ=");

        Assert.Throws<InvalidDataException>(() => SigningKeyStore.LoadOrCreate(null, _dataDirectory.FullName));
        Assert.Equal("c2hvcnQ=", File.ReadAllText(path));
    }
}

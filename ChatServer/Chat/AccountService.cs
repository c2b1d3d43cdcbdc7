using System.Collections.Concurrent;
using ChatServer.Auth;
using ChatServer.Storage;

namespace ChatServer.Chat;

internal enum AuthOutcome
{
    Ok,
    Invalid,
    ExpiredOrRevoked,
}

/// <summary>Users, logins and tokens: registration, sign-in, refresh with rotation, logout, token checks.</summary>
internal sealed class AccountService
{
    private readonly ChatState _state;
    private readonly StorageEngine _store;
    private readonly PasswordHasher _hasher;
    private readonly TokenService _tokens;
    private readonly AuthOptions _authOptions;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, byte> _reservedNames = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _loginGate = new(1, 1);
    private IChatEvents? _events;

    public AccountService(ChatState state, StorageEngine store, PasswordHasher hasher, TokenService tokens, AuthOptions authOptions, TimeProvider time)
    {
        _state = state;
        _store = store;
        _hasher = hasher;
        _tokens = tokens;
        _authOptions = authOptions;
        _time = time;
    }

    public void Attach(IChatEvents events) => _events = events;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<Result<UserRecord>> RegisterAsync(string? username, string? displayName, string? mobileNumber, string? password)
    {
        if (Validation.Username(username, out var name) is { } e1) return e1;
        if (Validation.Text(displayName, "displayName", 1, Validation.DisplayNameMax) is { } e2) return e2;
        if (mobileNumber is not null && Validation.Text(mobileNumber, "mobileNumber", 0, Validation.MobileNumberMax) is { } e3) return e3;
        if (Validation.Password(password) is { } e4) return e4;
        if (_state.Usernames.ContainsKey(name) || !_reservedNames.TryAdd(name, 0))
        {
            return ChatError.Conflict("username is taken");
        }

        try
        {
            if (_state.Usernames.ContainsKey(name)) return ChatError.Conflict("username is taken");
            var hash = await _hasher.HashAsync(password!);
            var user = new UserRecord(Guid.CreateVersion7(), name, displayName!, mobileNumber, hash, NowMs);
            List<Mutation> mutations = [new Mutation(StoreKeys.ForUser(user.Id), RecordCodec.Encode(user))];
            if (!await _store.WriteThroughAsync(mutations)) return ChatError.Conflict("username is taken");
            var entry = new WalEntry(mutations, () =>
            {
                _state.Users[user.Id] = new UserState(user);
                _state.Usernames[user.Username] = user.Id;
            });
            await _store.CommitAsync(entry);
            return user;
        }
        finally
        {
            _reservedNames.TryRemove(name, out _);
        }
    }

    public async Task<Result<LoginResult>> LoginAsync(string? username, string? password)
    {
        var name = (username ?? string.Empty).ToLowerInvariant();
        UserState? user = null;
        if (_state.Usernames.TryGetValue(name, out var id)) _state.Users.TryGetValue(id, out user);
        var ok = await _hasher.VerifyAsync(password ?? string.Empty, user?.Record.PasswordHash ?? _hasher.DummyHash);
        if (user is null || !ok) return ChatError.Unauthenticated("bad username or password");

        var refresh = TokenService.NewRefreshToken();
        var now = NowMs;
        var login = new LoginRecord(Guid.CreateVersion7(), user.Record.Id, TokenService.HashRefreshToken(refresh),
            now + (long)_authOptions.RefreshTokenLifetime.TotalMilliseconds, now, false, 0);
        List<Mutation> mutations = [new Mutation(StoreKeys.ForLogin(login.Id), RecordCodec.Encode(login))];
        await _store.WriteThroughAsync(mutations);
        await _store.CommitAsync(new WalEntry(mutations, () =>
        {
            _state.Logins[login.Id] = login;
            _state.LoginsByRefreshHash[Convert.ToBase64String(login.RefreshTokenHash)] = login.Id;
        }));
        return Issue(login, refresh);
    }

    public async Task<Result<LoginResult>> RefreshAsync(string? refreshToken)
    {
        if (string.IsNullOrEmpty(refreshToken) || refreshToken.Length > 256) return ChatError.Unauthenticated("invalid refresh token");
        var hashKey = Convert.ToBase64String(TokenService.HashRefreshToken(refreshToken));
        await _loginGate.WaitAsync();
        try
        {
            if (!_state.LoginsByRefreshHash.TryGetValue(hashKey, out var loginId) || !_state.Logins.TryGetValue(loginId, out var login)
                || login.Revoked || login.RefreshExpiresAtMs <= NowMs)
            {
                return ChatError.Unauthenticated("invalid refresh token");
            }

            var next = TokenService.NewRefreshToken();
            var updated = login with
            {
                RefreshTokenHash = TokenService.HashRefreshToken(next),
                RefreshExpiresAtMs = NowMs + (long)_authOptions.RefreshTokenLifetime.TotalMilliseconds,
            };
            List<Mutation> mutations = [new Mutation(StoreKeys.ForLogin(login.Id), RecordCodec.Encode(updated))];
            await _store.WriteThroughAsync(mutations);
            await _store.CommitAsync(new WalEntry(mutations, () =>
            {
                _state.Logins[updated.Id] = updated;
                _state.LoginsByRefreshHash.TryRemove(hashKey, out _);
                _state.LoginsByRefreshHash[Convert.ToBase64String(updated.RefreshTokenHash)] = updated.Id;
            }));
            return Issue(updated, next);
        }
        finally
        {
            _loginGate.Release();
        }
    }

    /// <summary>Revokes the caller's login (its refresh chain and every access token issued from it), or all of the user's logins.</summary>
    public async Task<Result<Unit>> LogoutAsync(AccessTokenClaims caller, bool all)
    {
        await _loginGate.WaitAsync();
        try
        {
            var now = NowMs;
            var revoked = new List<LoginRecord>();
            foreach (var login in _state.Logins.Values)
            {
                if (login.Revoked || login.UserId != caller.UserId) continue;
                if (!all && login.Id != caller.LoginId) continue;
                revoked.Add(login with { Revoked = true, RevokedAtMs = now });
            }

            if (revoked.Count == 0) return Unit.Value;
            var mutations = new List<Mutation>(revoked.Count);
            foreach (var r in revoked) mutations.Add(new Mutation(StoreKeys.ForLogin(r.Id), RecordCodec.Encode(r)));
            await _store.WriteThroughAsync(mutations);
            await _store.CommitAsync(new WalEntry(mutations, () =>
            {
                var ids = new List<Guid>(revoked.Count);
                foreach (var r in revoked)
                {
                    _state.Logins[r.Id] = r;
                    _state.LoginsByRefreshHash.TryRemove(Convert.ToBase64String(r.RefreshTokenHash), out _);
                    ids.Add(r.Id);
                }

                _events?.LoginsRevoked(ids);
            }));
            return Unit.Value;
        }
        finally
        {
            _loginGate.Release();
        }
    }

    public AuthOutcome Authenticate(ReadOnlySpan<char> token, out AccessTokenClaims claims)
    {
        var status = _tokens.Validate(token, out claims);
        if (status == TokenValidationStatus.Expired) return AuthOutcome.ExpiredOrRevoked;
        if (status != TokenValidationStatus.Valid) return AuthOutcome.Invalid;

        // This server issued the token, so its expiry is exact here (the validator's clock-skew margin is for
        // other clocks): the moment the heartbeat closes a socket for expiry, Hello and HTTP refuse the token too.
        if (claims.ExpiresAtMs <= NowMs) return AuthOutcome.ExpiredOrRevoked;
        if (!_state.Logins.TryGetValue(claims.LoginId, out var login) || login.UserId != claims.UserId) return AuthOutcome.Invalid;
        if (login.Revoked) return AuthOutcome.ExpiredOrRevoked;
        if (!_state.Users.ContainsKey(claims.UserId)) return AuthOutcome.Invalid;
        return AuthOutcome.Ok;
    }

    public bool IsLoginRevoked(Guid loginId) => !_state.Logins.TryGetValue(loginId, out var login) || login.Revoked;

    public Result<UserRecord> GetUser(string? idOrName)
    {
        if (string.IsNullOrEmpty(idOrName)) return ChatError.InvalidArgument("a user id or @username is required");
        if (idOrName[0] == '@')
        {
            var name = idOrName[1..].ToLowerInvariant();
            if (name.Length == 0 || name.Length > Validation.UsernameMax || Validation.HasNul(name))
            {
                return ChatError.InvalidArgument($"a username is 1–{Validation.UsernameMax} characters without U+0000");
            }

            if (_state.Usernames.TryGetValue(name, out var byName) && _state.Users.TryGetValue(byName, out var u1)) return u1.Record;
            return ChatError.NotFound("no such user");
        }

        if (!Guid.TryParseExact(idOrName, "D", out var id)) return ChatError.InvalidArgument("not a user id or @username");
        return GetUser(id);
    }

    public Result<UserRecord> GetUser(Guid id)
        => _state.Users.TryGetValue(id, out var user) ? user.Record : ChatError.NotFound("no such user");

    private LoginResult Issue(LoginRecord login, string refreshToken)
    {
        var (token, _) = _tokens.IssueAccessToken(login.UserId, login.Id);
        return new LoginResult(token, refreshToken, (long)_authOptions.AccessTokenLifetime.TotalSeconds, login.UserId);
    }
}

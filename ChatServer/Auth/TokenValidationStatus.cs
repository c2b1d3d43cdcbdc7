namespace ChatServer.Auth;

/// <summary>The outcome of <see cref="TokenService.Validate"/>; every value but <see cref="Valid"/> means unauthenticated.</summary>
internal enum TokenValidationStatus
{
    Valid,

    /// <summary>Not three base64url segments, too long, bad JSON, a missing or ill-typed claim, an unsupported header.</summary>
    Malformed,

    /// <summary>The signature does not match, or the header names an algorithm other than HS256 (including <c>none</c>).</summary>
    BadSignature,

    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
}

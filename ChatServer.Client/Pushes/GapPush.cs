namespace ChatServer.Client;

/// <summary>These seqs will not be pushed to this session; fetch them with History (push type 8).</summary>
/// <param name="GroupId">The group.</param>
/// <param name="FromSeq">The first missed seq.</param>
/// <param name="ToSeq">The last missed seq (inclusive).</param>
public sealed record GapPush(Guid GroupId, long FromSeq, long ToSeq) : ServerPush;

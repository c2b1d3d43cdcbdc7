namespace ChatServer.Client;

/// <summary>
/// A message the server sent without being asked: a pushed event <c>[2, type, ...]</c>, or a frame the
/// client could not match or decode (<see cref="UnexpectedFramePush"/>). Read them from
/// <see cref="ChatSocket.Pushes"/>.
/// </summary>
public abstract record ServerPush;

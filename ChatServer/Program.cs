using ChatServer.Hosting;

return await ServerHost.RunAsync(args);

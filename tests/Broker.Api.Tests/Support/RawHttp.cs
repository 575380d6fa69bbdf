using System.Net.Sockets;
using System.Text;

namespace Broker.Api.Tests.Support;

/// <summary>Sends a request exactly as written, for what no HttpClient would send (dot segments, broken
/// chunking, invalid UTF-8), and reads the answer's status, headers and body.</summary>
public static class RawHttp
{
    public sealed record Answer(int Status, string Head, string Body)
    {
        public string? Header(string name) => Head.Split("\r\n").Skip(1)
            .Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault();
    }

    /// <summary>Sends <paramref name="head"/> (request line and headers, without the blank line) and
    /// <paramref name="body"/>; the connection is closed after one answer.</summary>
    public static async Task<Answer> SendAsync(Uri server, string head, byte[]? body = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        await using var stream = client.GetStream();
        var request = Encoding.ASCII.GetBytes($"{head}\r\nHost: {server.Authority}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request);
        if (body is not null)
            await stream.WriteAsync(body);
        using var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received).WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (IOException)
        {
            // The server may reset the connection after answering a request it could not read.
        }
        var text = Encoding.UTF8.GetString(received.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, $"no HTTP answer to: {head}");
        var headPart = text[..split];
        return new Answer(int.Parse(headPart.Split(' ')[1]), headPart, text[(split + 4)..]);
    }

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}

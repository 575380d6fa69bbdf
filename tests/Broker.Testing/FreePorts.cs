using System.Net;
using System.Net.Sockets;

namespace Broker.Testing;

/// <summary>A loopback port nothing listens on right now, for servers a test starts.</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

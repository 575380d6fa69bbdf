using System.Net;
using System.Net.Sockets;

namespace Broker.Silo.Hosting;

/// <summary>
/// Finds a port the silo would listen on that another program already holds, before anything starts.
/// Kestrel binds last, after Orleans started, and fails with an unhandled exception and the host's error
/// log (30 lines, exit 134); a person needs one line saying which port and what to do instead.
/// </summary>
public static class PortsInUse
{
    /// <summary>The line to print for the first port in use, or null when each is free (or cannot be
    /// checked here, which Kestrel and Orleans then report themselves).</summary>
    public static string? Describe(IConfiguration config, SiloSettings settings)
    {
        foreach (var address in ListenAddresses.Configured(config))
        {
            if (Endpoint(address) is { } endpoint && IsTaken(endpoint))
            {
                return $"Cannot listen on {address}: port {endpoint.Port} is in use by another program. Stop it, or listen elsewhere: "
                    + "dotnet run --project src/Broker.Silo -- --urls http://localhost:5098 (or set ASPNETCORE_URLS).";
            }
        }
        var siloPort = settings.Cluster.SiloPort;
        var siloAddress = settings.Storage == StorageKind.Memory ? IPAddress.Loopback : IPAddress.Any;
        if (IsTaken(new IPEndPoint(siloAddress, siloPort)))
        {
            return $"Cannot use the silo port {siloPort} (Broker:Cluster:SiloPort): it is in use by another program, perhaps another silo on this host. "
                + "Give this one its own: Broker__Cluster__SiloPort=11112.";
        }
        return null;
    }

    /// <summary>Where Kestrel would bind an address: loopback for localhost, every interface for a wildcard
    /// or a host name, the address itself for an IP; null for a Unix socket, a dynamic port or an address
    /// that does not parse.</summary>
    private static IPEndPoint? Endpoint(string address)
    {
        BindingAddress parsed;
        try
        {
            parsed = BindingAddress.Parse(address);
        }
        catch (FormatException)
        {
            return null;
        }
        if (parsed.IsUnixPipe || parsed.Port == 0)
            return null;
        var host = parsed.Host.Trim('[', ']');
        var ip = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var literal) ? literal
            : IPAddress.Any;
        return new IPEndPoint(ip, parsed.Port);
    }

    private static bool IsTaken(IPEndPoint endpoint)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endpoint);
            socket.Listen();
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            return false; // not this machine's address, or no permission: Kestrel says so in its own words
        }
    }
}

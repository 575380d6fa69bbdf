using System.Globalization;

namespace Broker.Silo.Hosting;

/// <summary>
/// Where the silo listens once operations have a port of their own (<c>Broker:Management:Port</c>,
/// docs/design.md §5): every address the host would bind anyway, plus the management port on every
/// interface. Calling Kestrel's Listen* would make it ignore ASPNETCORE_URLS, so the management
/// port is added to the host's own setting instead.
/// </summary>
public static class ListenAddresses
{
    /// <summary>What Kestrel binds when neither <c>urls</c> nor <c>http_ports</c>/<c>https_ports</c> is set.</summary>
    private const string KestrelDefault = "http://localhost:5000";

    /// <summary>
    /// The host setting (key and value) that keeps the configured addresses and adds the management port:
    /// <c>urls</c> (ASPNETCORE_URLS, <c>--urls</c>) when it is set, or Kestrel's default when nothing is, with
    /// <c>http://+:{port}</c> appended; <c>http_ports</c> with the port appended when the host takes its
    /// addresses from ports (ASPNETCORE_HTTP_PORTS, ASPNETCORE_HTTPS_PORTS), since setting <c>urls</c> there
    /// would make it warn that it overrides them. A management port that is also a main one would serve the
    /// public routes and /metrics on one socket: refused.
    /// </summary>
    public static KeyValuePair<string, string> WithManagementPort(IConfiguration config, int managementPort)
    {
        var urls = Split(config[WebHostDefaults.ServerUrlsKey]);
        var httpPorts = Split(config[WebHostDefaults.HttpPortsKey]);
        var fromPorts = urls.Length == 0 && httpPorts.Length + Split(config[WebHostDefaults.HttpsPortsKey]).Length > 0;
        var configured = Configured(config);
        if (configured.FirstOrDefault(address => PortOf(address) == managementPort) is { } clash)
        {
            throw new ConfigurationException("Broker:Management:Port",
                $"must differ from the ports the API listens on, not {managementPort} (the port of '{clash}').");
        }
        return fromPorts
            ? new(WebHostDefaults.HttpPortsKey, string.Join(';', [.. httpPorts, managementPort.ToString(CultureInfo.InvariantCulture)]))
            : new(WebHostDefaults.ServerUrlsKey, string.Join(';', [.. configured, $"http://+:{managementPort}"]));
    }

    /// <summary>The addresses the host binds: <c>urls</c> when set, else those of <c>http_ports</c> and
    /// <c>https_ports</c>, else Kestrel's default.</summary>
    public static string[] Configured(IConfiguration config)
    {
        var urls = Split(config[WebHostDefaults.ServerUrlsKey]);
        if (urls.Length > 0)
            return urls;
        string[] fromPorts = [
            .. Split(config[WebHostDefaults.HttpPortsKey]).Select(port => $"http://*:{port}"),
            .. Split(config[WebHostDefaults.HttpsPortsKey]).Select(port => $"https://*:{port}")];
        return fromPorts.Length > 0 ? fromPorts : [KestrelDefault];
    }

    private static string[] Split(string? list) =>
        (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The TCP port of an address; null where there is none to compare (a Unix socket) or the
    /// address cannot be read, which Kestrel itself reports when it binds.</summary>
    private static int? PortOf(string address)
    {
        try
        {
            var parsed = BindingAddress.Parse(address);
            return parsed.IsUnixPipe ? null : parsed.Port;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

using Broker.Silo.Hosting;
using Microsoft.Extensions.Configuration;

namespace Broker.Silo.Tests.Hosting;

/// <summary>The management port joins the addresses the host would bind anyway, from wherever they came.</summary>
public sealed class ManagementListenAddressesTests
{
    private static KeyValuePair<string, string> WithManagementPort(int port, params (string Key, string Value)[] values) =>
        ListenAddresses.WithManagementPort(
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build(),
            port);

    [Fact]
    public void Urls_are_kept_and_the_management_port_is_added_on_every_interface()
    {
        Assert.Equal(new("urls", "http://127.0.0.1:8080;https://+:8443;http://+:9090"),
            WithManagementPort(9090, ("urls", "http://127.0.0.1:8080; https://+:8443")));
        // urls wins over ports, for the host as here.
        Assert.Equal(new("urls", "http://+:8080;http://+:9090"), WithManagementPort(9090, ("urls", "http://+:8080"), ("http_ports", "8081")));
    }

    [Fact]
    public void Ports_stay_ports_so_that_the_host_does_not_warn_of_an_override()
    {
        Assert.Equal(new("http_ports", "8080;9090"), WithManagementPort(9090, ("http_ports", "8080")));
        Assert.Equal(new("http_ports", "9090"), WithManagementPort(9090, ("https_ports", "8443")));
    }

    [Fact]
    public void Without_addresses_kestrels_default_is_kept()
    {
        Assert.Equal(new("urls", "http://localhost:5000;http://+:9090"), WithManagementPort(9090));
    }

    [Theory]
    [InlineData("urls", "http://127.0.0.1:8080;http://+:9090")]
    [InlineData("urls", "https://localhost:9090")]
    [InlineData("http_ports", "9090")]
    [InlineData("https_ports", "8443;9090")]
    public void A_management_port_that_is_also_a_main_port_is_refused(string key, string value)
    {
        var error = Assert.Throws<ConfigurationException>(() => WithManagementPort(9090, (key, value)));

        Assert.Equal("Broker:Management:Port", error.Key);
        Assert.Contains("9090", error.Message);
    }

    [Fact]
    public void Kestrels_default_port_is_a_main_port_too()
    {
        Assert.Throws<ConfigurationException>(() => WithManagementPort(5000));
    }

    [Fact]
    public void A_unix_socket_has_no_port_to_clash_with()
    {
        Assert.Equal(new("urls", "http://unix:/tmp/broker.sock;http://+:9090"), WithManagementPort(9090, ("urls", "http://unix:/tmp/broker.sock")));
    }
}

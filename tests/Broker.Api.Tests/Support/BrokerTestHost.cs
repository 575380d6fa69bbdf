using Broker.Api.Demo;
using Broker.Grains.Connectors.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Api.Tests.Support;

/// <summary>
/// The whole silo in process (Program, real pipeline, Memory storage) on a TestServer at
/// <c>http://localhost</c>. The dev IdP is served by the same host, so the connectors' back-channel
/// client (and the demo app's) is pointed at the TestServer's handler: the token, userinfo and
/// revocation calls go through the same pipeline a browser's requests do. <see cref="StartKestrel"/>
/// serves it with Kestrel on a loopback port instead, for requests no HttpClient would send.
/// </summary>
public sealed class BrokerTestHost(IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? services = null, bool kestrel = false)
    : WebApplicationFactory<Program>
{
    public const string AdminToken = "test-admin-token-0123456789abcdef";
    public const string PublicBaseUrl = "http://localhost/";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Broker:Storage"] = "Memory",
            ["Broker:AdminToken"] = AdminToken,
            ["Broker:PublicBaseUrl"] = PublicBaseUrl,
            ["Broker:AllowHttpUpstreams"] = "true",
            ["Broker:DevIdp:Enabled"] = "true",
            ["Broker:Demo:Enabled"] = "false",
            ["Broker:RateLimit:PermitsPerMinute"] = "0",
            // Lets a test choose its client address with X-Forwarded-For (the documented setting for silos behind a proxy).
            ["ForwardedHeaders_Enabled"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
            // Each host is a silo of its own: test classes run in parallel, so each needs its own port.
            ["Broker:Cluster:SiloPort"] = Broker.Testing.FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            settings[key] = value;
        // Production-like: every setting comes from configuration, nothing from Development defaults.
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in settings)
            builder.UseSetting(key, value);
        builder.ConfigureServices(collection =>
        {
            if (!kestrel)
            {
                collection.AddHttpClient(OutboundHttpOptions.HttpClientName).ConfigurePrimaryHttpMessageHandler(TestServerHandler);
                collection.AddHttpClient(DemoEndpoints.HttpClientName).ConfigurePrimaryHttpMessageHandler(TestServerHandler);
            }
            services?.Invoke(collection);
        });
    }

    /// <summary>The silo on Kestrel at a free loopback port (no back channel to itself: no logins).</summary>
    public static BrokerTestHost StartKestrel(Action<IServiceCollection>? services = null, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var host = new BrokerTestHost(overrides, services, kestrel: true);
        host.UseKestrel(0);
        host.StartServer();
        return host;
    }

    /// <summary>Where Kestrel listens, for hosts made by <see cref="StartKestrel"/>.</summary>
    public Uri KestrelAddress => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>A client that does not follow redirects, so tests see every 302.</summary>
    public HttpClient CreateBrowser() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    private static HttpMessageHandler TestServerHandler(IServiceProvider services) =>
        ((TestServer)services.GetRequiredService<IServer>()).CreateHandler();
}

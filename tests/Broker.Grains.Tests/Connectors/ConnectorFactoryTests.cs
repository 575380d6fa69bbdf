using System.Text.Json.Nodes;
using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Dev;
using Broker.Grains.Connectors.OAuth2;
using Broker.Grains.Connectors.Oidc;
using Broker.Testing.Upstreams;

namespace Broker.Grains.Tests.Connectors;

public sealed class ConnectorFactoryTests
{
    [Fact]
    public void Each_built_in_type_maps_to_its_connector_and_capabilities_are_type_checks()
    {
        using var http = new TestHttpClientFactory();
        var factory = new ConnectorFactory(http, TimeProvider.System, new ConnectorOptions { DevIdpBaseUrl = new Uri("https://broker.example/dev-idp/") });

        var oidc = factory.Create(new ConnectionConfig { Id = "o1", Type = "oidc", ClientId = "c", ClientSecret = "s", Issuer = "https://idp.example" });
        var dev = factory.Create(new ConnectionConfig { Id = "d1", Type = "dev" });

        Assert.IsType<OidcConnector>(oidc);
        Assert.IsAssignableFrom<IRefreshConnector>(oidc);
        Assert.IsAssignableFrom<IRevokeConnector>(oidc);
        Assert.IsAssignableFrom<ILogoutConnector>(oidc);
        Assert.IsType<OAuth2Connector>(dev);
    }

    [Fact]
    public void A_new_type_plugs_in_with_one_line()
    {
        using var http = new TestHttpClientFactory();
        var factory = new ConnectorFactory(http, TimeProvider.System, new ConnectorOptions());

        factory.Register("github", (config, context) => new OAuth2Connector(config with { Endpoints = new() { Authorize = "https://github.com/login/oauth/authorize", Token = "https://github.com/login/oauth/access_token", Userinfo = "https://api.github.com/user" } }, context));

        Assert.Contains("github", factory.Types);
        Assert.IsType<OAuth2Connector>(factory.Create(new ConnectionConfig { Id = "gh", Type = "github", ClientId = "c", ClientSecret = "s" }));
    }

    [Fact]
    public void A_dev_connection_without_a_dev_idp_is_misconfigured()
    {
        using var http = new TestHttpClientFactory();
        var factory = new ConnectorFactory(http, TimeProvider.System, new ConnectorOptions());

        Assert.Equal(ConnectorErrorKind.Misconfigured,
            Assert.Throws<ConnectorException>(() => factory.Create(new ConnectionConfig { Id = "d1", Type = "dev" })).Kind);
    }

    [Fact]
    public void The_dev_connection_points_every_endpoint_at_the_dev_idp()
    {
        var config = DevConnector.Configure(new ConnectionConfig { Id = "d1", Type = "dev" }, new Uri("https://broker.example/dev-idp/"));

        Assert.Equal("https://broker.example/dev-idp/authorize", config.Endpoints.Authorize);
        Assert.Equal("https://broker.example/dev-idp/token", config.Endpoints.Token);
        Assert.Equal("https://broker.example/dev-idp/userinfo", config.Endpoints.Userinfo);
        Assert.Equal("https://broker.example/dev-idp/revoke", config.Endpoints.Revocation);
        Assert.Equal("https://broker.example/dev-idp/introspect", config.Endpoints.Introspection);
        Assert.Equal(DevConnector.DefaultClientId, config.ClientId);
        Assert.Equal(TokenEndpointAuthMethods.None, config.TokenEndpointAuthMethod);
    }

    [Fact]
    public void Profile_mapping_defaults_fall_back_to_github_style_members()
    {
        var raw = new JsonObject { ["id"] = 583231, ["login"] = "octocat", ["avatar_url"] = "https://avatars.example/u/583231", ["email"] = null };

        var profile = ProfileClaimMapping.Default.Map(raw);

        Assert.Equal("583231", profile.Subject);
        Assert.Equal("octocat", profile.Name);
        Assert.Null(profile.Email);
        Assert.Equal("https://avatars.example/u/583231", profile.AvatarUrl);
        Assert.Same(raw, profile.Raw);
    }

    [Fact]
    public void Profile_mapping_reads_options_with_nested_paths()
    {
        var config = new ConnectionConfig
        {
            Id = "x1",
            Type = "oauth2",
            Options = new Dictionary<string, string> { ["subjectClaim"] = "data.uid, openid", ["nameClaim"] = "data.nick", ["avatarClaim"] = "figureurl_qq_2" },
        };
        var raw = JsonNode.Parse("""{"data":{"uid":"u-9","nick":"Nick"},"figureurl_qq_2":"https://q.example/a.png","sub":"ignored"}""")!.AsObject();

        var profile = ProfileClaimMapping.FromOptions(config).Map(raw);

        Assert.Equal("u-9", profile.Subject);
        Assert.Equal("Nick", profile.Name);
        Assert.Equal("https://q.example/a.png", profile.AvatarUrl);
    }

    [Fact]
    public void A_profile_without_a_subject_is_an_invalid_callback()
    {
        var error = Assert.Throws<ConnectorException>(() => ProfileClaimMapping.Default.Map(new JsonObject { ["name"] = "x" }));
        Assert.Equal(ConnectorErrorKind.InvalidCallback, error.Kind);
    }

    [Fact]
    public async Task An_oauth2_login_maps_the_userinfo_document()
    {
        await using var kit = await ConnectorTestKit.StartAsync();
        kit.Provider.UserinfoExtra = new JsonObject { ["sub"] = null, ["id"] = 42, ["login"] = "octo", ["name"] = null };

        var result = await kit.LoginAsync(kit.OAuth2());

        Assert.Equal("42", result.Profile.Subject);
        Assert.Equal("octo", result.Profile.Name);
        Assert.Equal("user1@example.com", result.Profile.Email);
        Assert.StartsWith("Bearer ", Assert.Single(kit.Provider.RequestsTo("/userinfo")).Authorization);
    }
}

using Broker.Grains.Connectors;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.Authing;
using Broker.Grains.Connectors.GitHub;
using Broker.Grains.Connectors.JAccount;
using Broker.Grains.Connectors.Qq;
using Broker.Grains.Connectors.ShangCloud;

namespace Broker.Grains.Tests.Providers;

public sealed class ProviderTypesTests
{
    [Theory]
    [InlineData("jaccount", typeof(JAccountConnector))]
    [InlineData("shangcloud", typeof(ShangCloudConnector))]
    [InlineData("qq", typeof(QqConnector))]
    [InlineData("authing", typeof(AuthingConnector))]
    [InlineData("github", typeof(GitHubConnector))]
    public void Each_provider_type_is_registered_with_defaults_and_the_proxy_capability(string type, Type expected)
    {
        using var kit = new ProviderTestKit();

        var connector = kit.Create(new ConnectionConfig { Id = "c1", Type = type, ClientId = "id", ClientSecret = "secret" });

        Assert.IsType(expected, connector);
        Assert.NotNull(Assert.IsAssignableFrom<IApiConnector>(connector).ApiBaseUrl);
    }

    [Fact]
    public void An_api_base_url_override_wins()
    {
        using var kit = new ProviderTestKit();

        var connector = (IApiConnector)kit.Create(new ConnectionConfig { Id = "c1", Type = "github", ClientId = "id", ClientSecret = "s", ApiBaseUrl = "https://ghe.example/api/v3" });

        Assert.Equal("https://ghe.example/api/v3/", connector.ApiBaseUrl!.AbsoluteUri);
    }

    [Fact]
    public void Oidc_and_oauth2_offer_the_proxy_only_with_an_api_base_url()
    {
        using var kit = new ProviderTestKit();
        var endpoints = new ConnectionEndpoints { Authorize = "https://idp.example/a", Token = "https://idp.example/t", Userinfo = "https://idp.example/u" };

        var without = (IApiConnector)kit.Create(new ConnectionConfig { Id = "c1", Type = "oauth2", ClientId = "id", ClientSecret = "s", Endpoints = endpoints });
        var with = (IApiConnector)kit.Create(new ConnectionConfig { Id = "c1", Type = "oidc", ClientId = "id", ClientSecret = "s", Issuer = "https://idp.example", ApiBaseUrl = "https://api.idp.example/" });

        Assert.Null(without.ApiBaseUrl);
        Assert.Equal("https://api.idp.example/", with.ApiBaseUrl!.AbsoluteUri);
        Assert.Equal(ApiFailureKind.TokenRejected, with.ClassifyApiResponse(401, [])!.Kind);
        Assert.Null(with.ClassifyApiResponse(204, []));
    }

    [Theory]
    [InlineData("jaccount")]
    [InlineData("qq")]
    [InlineData("github")]
    public void Providers_without_public_clients_need_a_secret(string type)
    {
        var config = new ConnectionConfig { Id = "c1", Type = type, ClientId = "id", TokenEndpointAuthMethod = TokenEndpointAuthMethods.None };

        Assert.Contains(ConnectionConfigValidator.Validate(config, [type], allowHttp: false), e => e.Field == "clientSecret");
    }

    [Fact]
    public void Qq_union_id_is_a_boolean()
    {
        var config = new ConnectionConfig { Id = "c1", Type = "qq", ClientId = "id", ClientSecret = "s", Options = new Dictionary<string, string> { ["unionId"] = "yes" } };

        Assert.Contains(ConnectionConfigValidator.Validate(config, ["qq"], allowHttp: false), e => e.Field == "options.unionId");
        Assert.Empty(ConnectionConfigValidator.Validate(config with { Options = new Dictionary<string, string> { ["unionId"] = "true" } }, ["qq"], allowHttp: false));
    }
}

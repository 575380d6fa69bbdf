using Broker.Grains.Connectors;

namespace Broker.Grains.Tests.Connectors;

public sealed class ConnectionConfigValidatorTests
{
    private static readonly string[] Types = ["oidc", "oauth2", "dev"];

    private static ConnectionConfig ValidOidc => new()
    {
        Id = "corp-sso",
        Type = "oidc",
        ClientId = "client",
        ClientSecret = "secret",
        Issuer = "https://idp.example.com/tenant",
    };

    private static ConnectionConfig ValidOAuth2 => new()
    {
        Id = "gh",
        Type = "oauth2",
        ClientId = "client",
        ClientSecret = "secret",
        Endpoints = new()
        {
            Authorize = "https://provider.example/authorize",
            Token = "https://provider.example/token",
            Userinfo = "https://api.provider.example/user",
        },
    };

    [Fact]
    public void Valid_configurations_have_no_errors()
    {
        Assert.Empty(Validate(ValidOidc));
        Assert.Empty(Validate(ValidOAuth2));
        Assert.Empty(Validate(new ConnectionConfig { Id = "dev", Type = "dev" }));
        Assert.Empty(Validate(ValidOidc with { ClientSecret = null, TokenEndpointAuthMethod = "none" }));
    }

    [Fact]
    public void An_unknown_type_is_named()
    {
        var error = Assert.Single(Validate(ValidOidc with { Type = "saml" }));
        Assert.Equal("type", error.Field);
        Assert.Contains("oauth2", error.Message);
    }

    [Theory]
    [InlineData("A")]
    [InlineData("-bad")]
    [InlineData("has_underscore")]
    public void A_malformed_id_is_refused(string id)
    {
        Assert.Equal("id", Assert.Single(Validate(ValidOidc with { Id = id })).Field);
    }

    [Fact]
    public void Missing_client_id_and_secret_are_refused()
    {
        var errors = Validate(ValidOidc with { ClientId = " ", ClientSecret = null });
        Assert.Equal(["clientId", "clientSecret"], errors.Select(e => e.Field));
    }

    [Fact]
    public void Oidc_needs_an_issuer_without_query()
    {
        Assert.Equal("issuer", Assert.Single(Validate(ValidOidc with { Issuer = null })).Field);
        Assert.Equal("issuer", Assert.Single(Validate(ValidOidc with { Issuer = "https://idp.example.com/?tenant=1" })).Field);
    }

    [Fact]
    public void Oauth2_needs_authorize_token_and_userinfo_endpoints()
    {
        var errors = Validate(ValidOAuth2 with { Endpoints = new() });
        Assert.Equal(["endpoints.authorize", "endpoints.token", "endpoints.userinfo"], errors.Select(e => e.Field));
    }

    [Fact]
    public void Urls_must_be_absolute_https_unless_http_is_allowed()
    {
        var plain = ValidOAuth2 with { Endpoints = ValidOAuth2.Endpoints with { Token = "http://provider.example/token" } };
        var relative = ValidOAuth2 with { Endpoints = ValidOAuth2.Endpoints with { Revocation = "/revoke" } };
        var javascript = ValidOidc with { Issuer = "javascript:alert(1)" };
        var credentials = ValidOidc with { ApiBaseUrl = "https://user:pw@api.example" };

        Assert.Equal("endpoints.token", Assert.Single(Validate(plain)).Field);
        Assert.Empty(ConnectionConfigValidator.Validate(plain, Types, allowHttp: true));
        Assert.Equal("endpoints.revocation", Assert.Single(Validate(relative)).Field);
        Assert.Equal("issuer", Validate(javascript)[0].Field);
        Assert.Equal("apiBaseUrl", Assert.Single(Validate(credentials)).Field);
    }

    [Fact]
    public void An_unknown_auth_method_is_refused()
    {
        Assert.Equal("tokenEndpointAuthMethod", Assert.Single(Validate(ValidOidc with { TokenEndpointAuthMethod = "private_key_jwt" })).Field);
    }

    [Fact]
    public void Scopes_must_be_scope_tokens_and_reserved_authorize_params_cannot_be_overridden()
    {
        var errors = Validate(ValidOidc with
        {
            Scopes = ["openid", "two words"],
            ExtraAuthorizeParams = new Dictionary<string, string> { ["state"] = "fixed", ["prompt"] = "login" },
        });

        Assert.Equal(["scopes", "extraAuthorizeParams.state"], errors.Select(e => e.Field));
    }

    [Fact]
    public void The_factory_refuses_to_build_an_invalid_connection()
    {
        using var http = new Broker.Testing.Upstreams.TestHttpClientFactory();
        var factory = new ConnectorFactory(http, TimeProvider.System, new ConnectorOptions());

        var error = Assert.Throws<ConnectorException>(() => factory.Create(ValidOidc with { Issuer = "http://idp.example.com" }));

        Assert.Equal(ConnectorErrorKind.Misconfigured, error.Kind);
        Assert.Contains("issuer", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    private static IReadOnlyList<ConfigError> Validate(ConnectionConfig config) =>
        ConnectionConfigValidator.Validate(config, Types, allowHttp: false);
}

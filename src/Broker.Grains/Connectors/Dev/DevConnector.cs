using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.Dev;

/// <summary>
/// The <c>dev</c> connection type: the <c>oauth2</c> connector pointed at the broker's own
/// development IdP (<c>{PublicBaseUrl}/dev-idp/</c>). Like dex's mock connector it is a real
/// connector, so demos and tests run the same code path as production providers.
/// </summary>
public static class DevConnector
{
    /// <summary>The client id used when a dev connection names none; the dev IdP accepts any.</summary>
    public const string DefaultClientId = "broker-dev";

    /// <summary>Creates the connector; <see cref="ConnectorOptions.DevIdpBaseUrl"/> must be set.</summary>
    public static IConnector Create(ConnectionConfig config, ConnectorContext context)
    {
        var root = context.Options.DevIdpBaseUrl
            ?? throw new ConnectorException(ConnectorErrorKind.Misconfigured, "The development IdP is not enabled on this broker.");
        return new OAuth2Connector(Configure(config, root), context);
    }

    /// <summary>The connection as the oauth2 connector sees it: every endpoint under <paramref name="root"/>, explicit ones kept.</summary>
    public static ConnectionConfig Configure(ConnectionConfig config, Uri root)
    {
        var baseUrl = root.AbsoluteUri.TrimEnd('/');
        var explicitEndpoints = config.Endpoints;
        return config with
        {
            ClientId = string.IsNullOrEmpty(config.ClientId) ? DefaultClientId : config.ClientId,
            Scopes = config.Scopes.Count == 0 ? ["profile", "email"] : config.Scopes,
            Endpoints = new ConnectionEndpoints
            {
                Authorize = explicitEndpoints.Authorize ?? $"{baseUrl}/authorize",
                Token = explicitEndpoints.Token ?? $"{baseUrl}/token",
                Userinfo = explicitEndpoints.Userinfo ?? $"{baseUrl}/userinfo",
                Revocation = explicitEndpoints.Revocation ?? $"{baseUrl}/revoke",
                Introspection = explicitEndpoints.Introspection ?? $"{baseUrl}/introspect",
                Logout = explicitEndpoints.Logout,
                Jwks = null,
            },
            // The dev IdP's own userinfo is an API the upstream proxy can be tried on.
            ApiBaseUrl = config.ApiBaseUrl ?? $"{baseUrl}/",
            // The dev IdP does not check secrets, so a public client is the honest description.
            TokenEndpointAuthMethod = string.IsNullOrEmpty(config.ClientSecret) ? TokenEndpointAuthMethods.None : config.TokenEndpointAuthMethod,
        };
    }
}

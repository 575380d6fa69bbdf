
namespace Broker.Grains.Connectors;

/// <summary>One problem with a connection configuration; <see cref="Field"/> is the REST body's camelCase path.</summary>
public sealed record ConfigError(string Field, string Message);

/// <summary>
/// Checks a <see cref="ConnectionConfig"/> before it is stored, so a bad one is a 400 at PUT
/// time rather than a failed login later. Provider-specific rules for oidc and oauth2 are here;
/// provider types that default their endpoints need none.
/// </summary>
public static class ConnectionConfigValidator
{
    // Parameters the broker sets itself: a tenant overriding them could break state, PKCE or nonce checks, and
    // response_mode=form_post would send the code to a callback that takes only GET.
    private static readonly HashSet<string> ReservedAuthorizeParams = new(StringComparer.Ordinal)
    {
        "response_type", "response_mode", "client_id", "redirect_uri", "state", "nonce", "code_challenge", "code_challenge_method", "scope",
    };

    /// <summary>Returns every problem found; an empty list means the configuration is usable.</summary>
    /// <param name="config">The configuration.</param>
    /// <param name="knownTypes">The connection types the factory has.</param>
    /// <param name="allowHttp">Accept plain-http URLs (<c>Broker__AllowHttpUpstreams</c>); otherwise https only.</param>
    public static IReadOnlyList<ConfigError> Validate(ConnectionConfig config, IEnumerable<string> knownTypes, bool allowHttp)
    {
        var errors = new List<ConfigError>();
        if (!Tenants.ResourceIds.IsWellFormed(config.Id))
        {
            errors.Add(new("id", $"must match {Tenants.ResourceIds.Pattern}."));
        }

        if (string.IsNullOrEmpty(config.Type) || !knownTypes.Contains(config.Type, StringComparer.Ordinal))
        {
            errors.Add(new("type", $"must be one of: {string.Join(", ", knownTypes.Order(StringComparer.Ordinal))}."));
        }

        var isDev = config.Type == ConnectionTypes.Dev;
        if (!isDev && string.IsNullOrWhiteSpace(config.ClientId))
        {
            errors.Add(new("clientId", "is required."));
        }

        if (!TokenEndpointAuthMethods.All.Contains(config.TokenEndpointAuthMethod ?? ""))
        {
            errors.Add(new("tokenEndpointAuthMethod", "must be client_secret_post, client_secret_basic or none."));
        }
        else if (!isDev && config.TokenEndpointAuthMethod != TokenEndpointAuthMethods.None && string.IsNullOrEmpty(config.ClientSecret))
        {
            errors.Add(new("clientSecret", $"is required with {config.TokenEndpointAuthMethod}; use tokenEndpointAuthMethod 'none' for a public client."));
        }

        if ((config.Scopes ?? []).Distinct(StringComparer.Ordinal).Count() != (config.Scopes ?? []).Count)
        {
            errors.Add(new("scopes", "must not repeat a scope."));
        }

        foreach (var scope in config.Scopes ?? [])
        {
            if (!IsScopeToken(scope))
            {
                errors.Add(new("scopes", $"'{Printable(scope)}' is not a scope token (RFC 6749 §3.3)."));
            }
        }

        foreach (var scope in config.AllowedExtraScopes ?? [])
        {
            if (!IsScopeToken(scope))
            {
                errors.Add(new("allowedExtraScopes", $"'{Printable(scope)}' is not a scope token (RFC 6749 §3.3)."));
            }
        }

        foreach (var key in (config.ExtraAuthorizeParams ?? new Dictionary<string, string>()).Keys.Where(ReservedAuthorizeParams.Contains))
        {
            errors.Add(new($"extraAuthorizeParams.{key}", "is set by the broker and cannot be overridden."));
        }

        CheckUrl(errors, "issuer", config.Issuer, allowHttp);
        CheckUrl(errors, "baseUrl", config.BaseUrl, allowHttp);
        CheckUrl(errors, "apiBaseUrl", config.ApiBaseUrl, allowHttp);
        var endpoints = config.Endpoints ?? new ConnectionEndpoints();
        CheckUrl(errors, "endpoints.authorize", endpoints.Authorize, allowHttp);
        CheckUrl(errors, "endpoints.token", endpoints.Token, allowHttp);
        CheckUrl(errors, "endpoints.userinfo", endpoints.Userinfo, allowHttp);
        CheckUrl(errors, "endpoints.revocation", endpoints.Revocation, allowHttp);
        CheckUrl(errors, "endpoints.introspection", endpoints.Introspection, allowHttp);
        CheckUrl(errors, "endpoints.logout", endpoints.Logout, allowHttp);
        CheckUrl(errors, "endpoints.jwks", endpoints.Jwks, allowHttp);

        switch (config.Type)
        {
            case ConnectionTypes.Oidc when string.IsNullOrWhiteSpace(config.Issuer):
                errors.Add(new("issuer", "is required for an oidc connection."));
                break;
            case ConnectionTypes.Oidc when Uri.TryCreate(config.Issuer, UriKind.Absolute, out var issuer) && (issuer.Query.Length > 0 || issuer.Fragment.Length > 0):
                // OIDC Discovery §3 / Core §2: the issuer is a URL with no query or fragment.
                errors.Add(new("issuer", "must not have a query or fragment."));
                break;
            case ConnectionTypes.OAuth2:
                Require(errors, "endpoints.authorize", endpoints.Authorize);
                Require(errors, "endpoints.token", endpoints.Token);
                Require(errors, "endpoints.userinfo", endpoints.Userinfo);
                break;
        }

        ProviderRules(errors, config);

        return errors;
    }

    // Rules of the provider types; their endpoints all have defaults, so only secrets and options are checked.
    private static void ProviderRules(List<ConfigError> errors, ConnectionConfig config)
    {
        var options = config.Options ?? new Dictionary<string, string>();
        switch (config.Type)
        {
            // jAccount verifies the id_token with the secret (HS256), QQ and GitHub take it in every
            // token request: none of them has public clients, whatever tokenEndpointAuthMethod says.
            case ConnectionTypes.JAccount or ConnectionTypes.Qq or ConnectionTypes.GitHub when string.IsNullOrEmpty(config.ClientSecret)
                && config.TokenEndpointAuthMethod == TokenEndpointAuthMethods.None:
                errors.Add(new("clientSecret", $"is required for a {config.Type} connection."));
                break;
            case ConnectionTypes.Qq when options.TryGetValue("unionId", out var unionId) && unionId is not ("true" or "false"):
                errors.Add(new("options.unionId", "must be true or false."));
                break;
            case ConnectionTypes.Authing:
                if (options.TryGetValue("protocol", out var protocol) && protocol is not ("oidc" or "oauth"))
                {
                    errors.Add(new("options.protocol", "must be oidc or oauth."));
                }

                foreach (var name in new[] { "introspectionEndpointAuthMethod", "revocationEndpointAuthMethod" })
                {
                    if (options.TryGetValue(name, out var method) && !TokenEndpointAuthMethods.All.Contains(method))
                    {
                        errors.Add(new($"options.{name}", "must be client_secret_post, client_secret_basic or none."));
                    }
                    else if (method is TokenEndpointAuthMethods.ClientSecretPost or TokenEndpointAuthMethods.ClientSecretBasic && string.IsNullOrEmpty(config.ClientSecret))
                    {
                        errors.Add(new("clientSecret", $"is required with options.{name} {method}."));
                    }
                }

                break;
        }
    }

    /// <summary>scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3).</summary>
    public static bool IsScopeToken(string? scope) =>
        !string.IsNullOrEmpty(scope) && !scope.Any(c => c is <= ' ' or '"' or '\\' or > '~');

    private static void Require(List<ConfigError> errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new(field, "is required for an oauth2 connection."));
        }
    }

    private static void CheckUrl(List<ConfigError> errors, string field, string? value, bool allowHttp)
    {
        if (value is null)
        {
            return;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add(new(field, "must be an absolute https URL."));
        }
        else if (uri.Scheme == Uri.UriSchemeHttp && !allowHttp)
        {
            errors.Add(new(field, "must use https (plain http is allowed only with Broker__AllowHttpUpstreams)."));
        }
        else if (uri.UserInfo.Length > 0)
        {
            errors.Add(new(field, "must not contain credentials."));
        }
    }

    private static string Printable(string? value) =>
        new((value ?? "").Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

using System.Text;

namespace Broker.Grains.Connectors.OAuth2;

/// <summary>Builds authorize and logout URLs: the endpoint's own query is kept and parameters are appended, percent-encoded.</summary>
public static class AuthorizeUrl
{
    /// <summary>Appends parameters (null values skipped) to an absolute URL.</summary>
    public static Uri Build(string endpoint, IEnumerable<KeyValuePair<string, string?>> parameters)
    {
        var builder = new StringBuilder(endpoint);
        var hasQuery = endpoint.Contains('?');
        foreach (var (key, value) in parameters)
        {
            if (value is null)
            {
                continue;
            }

            builder.Append(hasQuery ? '&' : '?').Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
            hasQuery = true;
        }

        return new Uri(builder.ToString(), UriKind.Absolute);
    }

    /// <summary>
    /// The standard code-flow parameters (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1)
    /// followed by the connection's extra parameters, which may not override the standard ones.
    /// </summary>
    public static Uri ForCodeFlow(ConnectionConfig config, string endpoint, AuthorizeInput input, string scope, bool sendNonce)
    {
        var parameters = new List<KeyValuePair<string, string?>>
        {
            new("response_type", "code"),
            new("client_id", config.ClientId),
            new("redirect_uri", input.RedirectUri),
            new("scope", scope.Length == 0 ? null : scope),
            new("state", input.State),
            new("nonce", sendNonce ? input.Nonce : null),
        };
        if (config.UsePkce)
        {
            // Silently dropping the challenge would downgrade the login; the caller forgot it.
            ArgumentException.ThrowIfNullOrEmpty(input.CodeChallenge, "input.CodeChallenge");
            parameters.Add(new("code_challenge", input.CodeChallenge));
            parameters.Add(new("code_challenge_method", Pkce.MethodS256));
        }

        var reserved = parameters.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        reserved.UnionWith(["code_challenge", "code_challenge_method"]);
        parameters.AddRange(config.ExtraAuthorizeParams
            .Where(p => !reserved.Contains(p.Key))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));
        return Build(endpoint, parameters);
    }
}

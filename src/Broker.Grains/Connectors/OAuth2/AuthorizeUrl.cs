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
    /// The standard code-flow parameters (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1), the login's
    /// own extra scopes, its OpenID Connect hints where the provider takes them (<paramref name="sendNonce"/>:
    /// an OpenID Connect provider), then the connection's extra parameters, which override none of these.
    /// </summary>
    public static Uri ForCodeFlow(ConnectionConfig config, string endpoint, AuthorizeInput input, string scope, bool sendNonce)
    {
        var hints = input.Hints ?? new LoginHints();
        var scopes = string.Join(' ', scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Concat(hints.ExtraScopes ?? []).Distinct(StringComparer.Ordinal));
        var parameters = new List<KeyValuePair<string, string?>>
        {
            new("response_type", "code"),
            new("client_id", config.ClientId),
            new("redirect_uri", input.RedirectUri),
            new("scope", scopes.Length == 0 ? null : scopes),
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
        if (sendNonce)
        {
            parameters.AddRange(new KeyValuePair<string, string?>[]
            {
                new("login_hint", hints.LoginHint), new("prompt", hints.Prompt), new("ui_locales", hints.UiLocales),
                new("max_age", hints.MaxAge?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            }.Where(p => p.Value is not null));
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

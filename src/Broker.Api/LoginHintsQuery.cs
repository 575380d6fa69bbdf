using System.Globalization;
using Broker.Grains.Connectors;
using Microsoft.AspNetCore.Http;

namespace Broker.Api;

/// <summary>
/// What an app may ask of one login on <c>/t/{tenant}/login</c> (docs/design.md §3): <c>login_hint</c>,
/// <c>prompt</c>, <c>ui_locales</c>, <c>max_age</c> (OIDC Core §3.1.2.1) and extra <c>scope</c>. Each is
/// checked for shape here; whether the connection allows a scope is the pending login's to say.
/// </summary>
public static class LoginHintsQuery
{
    private static readonly string[] Names = ["login_hint", "prompt", "ui_locales", "max_age", "scope"];
    private static readonly HashSet<string> Prompts = new(StringComparer.Ordinal) { "none", "login", "consent", "select_account" };

    /// <summary>The hints, or the name of the first that is malformed.</summary>
    public static (LoginHints? Hints, string? Malformed) Read(IQueryCollection query)
    {
        if (Names.FirstOrDefault(name => query[name].Count > 1) is { } repeated)
            return (null, repeated);
        string? Value(string name) => query[name] is { Count: 1 } value ? value[0] : null;

        var loginHint = Value("login_hint");
        if (loginHint is not null && (loginHint.Length is 0 or > 256 || loginHint.Any(char.IsControl)))
            return (null, "login_hint");
        var prompt = Value("prompt");
        var prompts = prompt?.Split(' ') ?? [];
        if (prompt is not null && (prompts.Any(p => !Prompts.Contains(p)) || prompts.Distinct().Count() != prompts.Length || (prompts.Contains("none") && prompts.Length > 1)))
            return (null, "prompt");
        var uiLocales = Value("ui_locales");
        if (uiLocales is not null && (uiLocales.Length is 0 or > 100 || uiLocales.Split(' ').Any(tag => tag.Length is 0 or > 35 || !tag.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))))
            return (null, "ui_locales");
        int? maxAge = null;
        if (Value("max_age") is { } rawMaxAge)
        {
            if (!int.TryParse(rawMaxAge, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                return (null, "max_age");
            maxAge = seconds;
        }
        var scope = Value("scope");
        var scopes = scope?.Split(' ') ?? [];
        if (scope is not null && (scopes.Length > 20 || !scopes.All(ConnectionConfigValidator.IsScopeToken)))
            return (null, "scope");

        var hints = new LoginHints(loginHint, prompt, uiLocales, maxAge, scopes.Length == 0 ? null : scopes.Distinct(StringComparer.Ordinal).ToList());
        return (hints == new LoginHints() ? null : hints, null);
    }

    /// <summary>The hints of a request as given, for the chooser's links to carry along.</summary>
    public static IEnumerable<(string Name, string? Value)> Carried(IQueryCollection query) =>
        Names.Where(query.ContainsKey).Select(name => (name, (string?)query[name].ToString()));
}

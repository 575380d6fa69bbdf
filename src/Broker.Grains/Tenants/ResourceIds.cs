using System.Text.RegularExpressions;

namespace Broker.Grains.Tenants;

/// <summary>The rule for tenant and connection ids (docs/design.md §3), in one place for the API and the validator.</summary>
public static partial class ResourceIds
{
    public const string Pattern = "^[a-z0-9][a-z0-9-]{1,62}$";

    public static bool IsWellFormed(string? id) => id is not null && IdPattern().IsMatch(id);

    // \z, not $: $ also matches before a final newline, and route values arrive percent-decoded.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{1,62}\z")]
    private static partial Regex IdPattern();
}

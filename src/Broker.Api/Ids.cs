using System.Text.RegularExpressions;
using Broker.Grains.Security;
using Broker.Grains.Users;

namespace Broker.Api;

/// <summary>The id formats of DESIGN.md §3; anything else is a 400 before a grain is touched.</summary>
public static partial class Ids
{
    public static bool IsTenantOrConnection(string? value) => value is not null && TenantPattern().IsMatch(value);

    public static bool IsSession(string? value) => RandomIds.IsWellFormed(value);

    public static bool IsUser(string? value) => UserIds.IsWellFormed(value);

    // \z, not $: $ also matches before a final newline, and route values arrive percent-decoded.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]{1,62}\z")]
    private static partial Regex TenantPattern();
}

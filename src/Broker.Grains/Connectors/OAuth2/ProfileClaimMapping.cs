using System.Text.Json;
using System.Text.Json.Nodes;

namespace Broker.Grains.Connectors.OAuth2;

/// <summary>
/// Which members of a provider's profile JSON hold the subject, name, e-mail and picture.
/// Each field is a list of candidates tried in order; a candidate may be a dotted path into
/// nested objects (<c>data.user.id</c>). The defaults read OIDC claims first and then the
/// names GitHub-like APIs use.
/// </summary>
/// <remarks>
/// Set through the connection's options: <c>subjectClaim</c>, <c>nameClaim</c>,
/// <c>emailClaim</c>, <c>avatarClaim</c>, each a comma-separated list replacing the default.
/// </remarks>
public sealed record ProfileClaimMapping(
    IReadOnlyList<string> Subject,
    IReadOnlyList<string> Name,
    IReadOnlyList<string> Email,
    IReadOnlyList<string> AvatarUrl)
{
    /// <summary>sub|id, name|login, email, picture|avatar_url.</summary>
    public static ProfileClaimMapping Default { get; } = new(["sub", "id"], ["name", "login"], ["email"], ["picture", "avatar_url"]);

    /// <summary>Reads the mapping from a connection's options, falling back to <see cref="Default"/> per field.</summary>
    public static ProfileClaimMapping FromOptions(ConnectionConfig config) => new(
        Split(config.Option("subjectClaim")) ?? Default.Subject,
        Split(config.Option("nameClaim")) ?? Default.Name,
        Split(config.Option("emailClaim")) ?? Default.Email,
        Split(config.Option("avatarClaim")) ?? Default.AvatarUrl);

    /// <summary>
    /// Maps a profile. A profile without a subject cannot be linked to a user, so it is refused
    /// as <see cref="ConnectorErrorKind.InvalidCallback"/>.
    /// </summary>
    public UpstreamProfile Map(JsonObject raw)
    {
        var subject = First(raw, Subject);
        if (string.IsNullOrEmpty(subject))
        {
            throw new ConnectorException(ConnectorErrorKind.InvalidCallback, $"The provider's profile has no subject in any of: {string.Join(", ", Subject)}.");
        }

        return new UpstreamProfile(subject, First(raw, Name), First(raw, Email), First(raw, AvatarUrl), raw);
    }

    private static string? First(JsonObject raw, IReadOnlyList<string> candidates)
    {
        foreach (var path in candidates)
        {
            JsonNode? node = raw;
            foreach (var segment in path.Split('.'))
            {
                node = node is JsonObject obj ? obj[segment] : null;
            }

            // Numeric ids (GitHub's "id": 583231) become their decimal text.
            var text = node is JsonValue value ? value.GetValueKind() switch
            {
                JsonValueKind.String => value.GetValue<string>(),
                JsonValueKind.Number => value.ToJsonString(),
                _ => null,
            } : null;
            if (!string.IsNullOrEmpty(text))
            {
                return text;
            }
        }

        return null;
    }

    private static string[]? Split(string? value) =>
        value?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } parts ? parts : null;
}

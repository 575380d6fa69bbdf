namespace Broker.Grains.Sessions;

/// <summary>A call a tenant asks the broker to make to the provider's API with the session's token
/// (docs/design.md §3, what jAccount's call_rest_api and Flask-OAuthlib's remote get/post do).</summary>
/// <param name="Path">Relative to the connection's API base URL; must stay below it.</param>
/// <param name="JsonBody">Sent as application/json when present.</param>
/// <param name="Headers">Request headers from <see cref="UpstreamProxy.RequestHeaders"/> only.</param>
/// <param name="Form">Sent as application/x-www-form-urlencoded when present (never with a JSON body).</param>
[GenerateSerializer, Immutable]
public sealed record UpstreamCall(string Method, string Path, IReadOnlyDictionary<string, string>? Query, string? JsonBody,
    IReadOnlyDictionary<string, string>? Headers = null, IReadOnlyDictionary<string, string>? Form = null);

[GenerateSerializer, Immutable]
public abstract record UpstreamCallOutcome
{
    /// <summary>What the provider answered: status, content type and body, unchanged, and the headers of
    /// <see cref="UpstreamProxy.ResponseHeaders"/> it sent.</summary>
    [GenerateSerializer, Immutable]
    public sealed record Response(int Status, string? ContentType, byte[] Body, IReadOnlyDictionary<string, string>? Headers = null) : UpstreamCallOutcome;

    [GenerateSerializer, Immutable]
    public sealed record NotFound : UpstreamCallOutcome;

    [GenerateSerializer, Immutable]
    public sealed record Ended(string Reason) : UpstreamCallOutcome;

    /// <summary>The target is not below the API base URL (or the connection has none); nothing was sent.</summary>
    [GenerateSerializer, Immutable]
    public sealed record Refused(string Code, string Detail) : UpstreamCallOutcome;

    /// <summary>The provider did not answer in time, was unreachable, or answered more than the cap.</summary>
    [GenerateSerializer, Immutable]
    public sealed record Unavailable(string Code, string Detail) : UpstreamCallOutcome;
}

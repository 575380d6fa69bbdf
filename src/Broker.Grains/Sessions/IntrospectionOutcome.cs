namespace Broker.Grains.Sessions;

/// <summary>What asking the provider about a session's token (RFC 7662) came to.</summary>
[GenerateSerializer, Immutable]
public abstract record IntrospectionOutcome
{
    /// <summary>The provider answered; an inactive token has ended the session (<c>revoked</c>), which the view shows.</summary>
    [GenerateSerializer, Immutable]
    public sealed record Answered(bool Active, SessionView View) : IntrospectionOutcome;

    /// <summary>The connection's provider has no introspection endpoint (409 <c>no_introspection</c>).</summary>
    [GenerateSerializer, Immutable]
    public sealed record NotSupported : IntrospectionOutcome;

    /// <summary>The session has ended already; there is no token to ask about.</summary>
    [GenerateSerializer, Immutable]
    public sealed record Ended(string Reason) : IntrospectionOutcome;

    /// <summary>The provider could not be asked now (503).</summary>
    [GenerateSerializer, Immutable]
    public sealed record Unavailable : IntrospectionOutcome;

    [GenerateSerializer, Immutable]
    public sealed record NotFound : IntrospectionOutcome;
}

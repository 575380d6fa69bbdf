namespace Broker.Grains.Connectors;

/// <summary>What went wrong at the provider, as far as the caller must branch on it.</summary>
public enum ConnectorErrorKind
{
    /// <summary>The user or the provider declined the login (RFC 6749 §4.1.2.1 <c>access_denied</c>).</summary>
    AccessDenied,
    /// <summary>The callback or what the provider sent back cannot be trusted (bad id_token, missing code, subject mismatch).</summary>
    InvalidCallback,
    /// <summary>The provider refused the code or refresh token (RFC 6749 §5.2 <c>invalid_grant</c>): the session must end.</summary>
    InvalidGrant,
    /// <summary>Transient: network failure, timeout, 5xx, 429, or a malformed answer. Retrying later may work.</summary>
    UpstreamUnavailable,
    /// <summary>The connection's configuration is wrong (bad endpoints, rejected client credentials, issuer mismatch).</summary>
    Misconfigured,
}

/// <summary>
/// The one error a connector throws. Its message never contains a secret or a token; the
/// provider's own <c>error</c> / <c>error_description</c> are kept separately when it gave them.
/// </summary>
public sealed class ConnectorException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConnectorException(
        ConnectorErrorKind kind,
        string message,
        string? upstreamError = null,
        string? upstreamErrorDescription = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        UpstreamError = upstreamError;
        UpstreamErrorDescription = upstreamErrorDescription;
    }

    /// <summary>What the caller should do about it.</summary>
    public ConnectorErrorKind Kind { get; }

    /// <summary>The provider's <c>error</c> code (RFC 6749 §5.2), when it sent one.</summary>
    public string? UpstreamError { get; }

    /// <summary>The provider's <c>error_description</c>, when it sent one (truncated).</summary>
    public string? UpstreamErrorDescription { get; }
}

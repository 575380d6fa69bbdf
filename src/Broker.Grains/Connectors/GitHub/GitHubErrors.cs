namespace Broker.Grains.Connectors.GitHub;

/// <summary>
/// GitHub's own token-endpoint error codes (GD "Troubleshooting OAuth app access token request
/// errors"), which arrive with HTTP 200 and are not RFC 6749 §5.2 names.
/// </summary>
internal static class GitHubErrors
{
    /// <summary>Runs a token call and re-classifies GitHub's codes: a refused code or refresh token is InvalidGrant.</summary>
    public static async Task<UpstreamTokens> MapAsync(Func<Task<UpstreamTokens>> call)
    {
        try
        {
            return await call();
        }
        catch (ConnectorException e) when (e.UpstreamError is "bad_verification_code" or "bad_refresh_token")
        {
            // bad_verification_code: wrong or expired (10 min) code; bad_refresh_token: spent or expired
            // refresh token. Either way the grant is gone (RFC 6749 §5.2 invalid_grant).
            throw new ConnectorException(ConnectorErrorKind.InvalidGrant, e.Message, e.UpstreamError, e.UpstreamErrorDescription, e);
        }
    }
}

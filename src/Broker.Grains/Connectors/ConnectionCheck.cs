using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Http;

namespace Broker.Grains.Connectors;

/// <summary>One finding of a connection check: <see cref="Ok"/> null means the check could not tell.</summary>
public sealed record CheckFinding(string Name, bool? Ok, string Detail);

/// <summary>What a connection check found (docs/design.md §6 "Connection check").</summary>
public sealed record ConnectionCheckReport(bool Ok, string CallbackUrl, IReadOnlyList<CheckFinding> Checks);

/// <summary>
/// Asks the provider, without a user, whether a connection's configuration works: its discovery document and
/// keys (OpenID Connect), whether its authorization endpoint answers, and whether it takes the client's
/// credentials, by redeeming a made-up authorization code: <c>invalid_grant</c> means the credentials were
/// accepted (the provider got as far as the code), <c>invalid_client</c> or a 401 that they were refused.
/// It creates no session and changes nothing; a failed check is a finding, not an error.
/// </summary>
public sealed class ConnectionChecker(ConnectorFactory connectors)
{
    // RFC 6749 §5.2's codes, and the providers' own for the same answer: GitHub's (its OAuth docs) and
    // QQ's 100008 (no such appid) and 100009 (wrong appkey).
    private static readonly HashSet<string> RefusedClientCodes = new(StringComparer.Ordinal)
    {
        "invalid_client", "unauthorized_client", "incorrect_client_credentials", "100008", "100009",
    };

    public async Task<ConnectionCheckReport> CheckAsync(ConnectionConfig config, string callbackUrl, CancellationToken cancellationToken)
    {
        var checks = new List<CheckFinding>();
        if (config.Type == ConnectionTypes.Oidc && config.Issuer is { } issuer)
            await DiscoveryAndKeysAsync(issuer, checks, cancellationToken);

        var connector = connectors.Create(config);
        var verifier = config.UsePkce ? Pkce.CreateVerifier() : null;
        var input = new AuthorizeInput(callbackUrl, Security.RandomIds.New(), Security.RandomIds.New(), verifier is null ? null : Pkce.ComputeChallenge(verifier));
        AuthorizeRedirect? redirect = null;
        try
        {
            redirect = await connector.BuildAuthorizeRequestAsync(input, cancellationToken);
            checks.Add(await EndpointAsync("authorize", redirect.Url, cancellationToken));
        }
        catch (ConnectorException e)
        {
            checks.Add(new("authorize", false, $"No authorize URL could be built: {e.Message}"));
        }

        checks.Add(await ClientAsync(connector, config, callbackUrl, verifier, input.Nonce, redirect?.ConnectorData, cancellationToken));
        return new ConnectionCheckReport(checks.All(c => c.Ok != false), callbackUrl, checks);
    }

    private async Task DiscoveryAndKeysAsync(string issuer, List<CheckFinding> checks, CancellationToken cancellationToken)
    {
        Oidc.OidcMetadata metadata;
        try
        {
            metadata = await connectors.Context.Metadata.GetDiscoveryAsync(issuer, cancellationToken);
            checks.Add(new("discovery", true, $"{issuer.TrimEnd('/')}/.well-known/openid-configuration names this issuer."));
        }
        catch (ConnectorException e)
        {
            checks.Add(new("discovery", false, e.Message));
            return;
        }
        if (metadata.JwksUri is not { } jwksUri)
        {
            checks.Add(new("jwks", false, "The discovery document names no jwks_uri."));
            return;
        }
        try
        {
            var response = await connectors.Context.Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, jwksUri), RetrySafety.Idempotent, "JWKS", cancellationToken);
            var keys = response.IsSuccess ? (JsonNode.Parse(response.Body) as JsonObject)?["keys"] as JsonArray : null;
            checks.Add(keys is null
                ? new("jwks", false, $"{jwksUri} answered HTTP {(int)response.StatusCode} without a key set.")
                : new("jwks", keys.Count > 0, $"{jwksUri} holds {keys.Count} key(s)."));
        }
        catch (Exception e) when (e is ConnectorException or System.Text.Json.JsonException)
        {
            checks.Add(new("jwks", false, $"{jwksUri}: {e.Message}"));
        }
    }

    /// <summary>Whether a URL answers at all: any HTTP status is an answer (an authorize endpoint without a
    /// user may well answer 400); only no answer is a failure.</summary>
    private async Task<CheckFinding> EndpointAsync(string name, Uri url, CancellationToken cancellationToken)
    {
        var at = url.GetLeftPart(UriPartial.Path);
        try
        {
            var response = await connectors.Context.Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), RetrySafety.Idempotent, name, cancellationToken);
            return new(name, (int)response.StatusCode < 500, $"{at} answered HTTP {(int)response.StatusCode}.");
        }
        catch (ConnectorException e)
        {
            return new(name, false, $"{at} did not answer: {e.Message}");
        }
    }

    private static async Task<CheckFinding> ClientAsync(IConnector connector, ConnectionConfig config, string callbackUrl, string? verifier, string nonce, byte[]? connectorData, CancellationToken cancellationToken)
    {
        // Only these types send the credentials as tokenEndpointAuthMethod says; the others the way their provider takes them.
        var method = config.Type is ConnectionTypes.Oidc or ConnectionTypes.OAuth2 or ConnectionTypes.Authing
            ? config.TokenEndpointAuthMethod
            : $"the way {config.Type} takes them";
        try
        {
            await connector.CompleteAsync(new CallbackInput("broker-connection-check-" + Security.RandomIds.New()), new PendingLoginData(callbackUrl, verifier, nonce, connectorData), cancellationToken);
            return new("client", null, "The provider took a made-up code, so whether it knows the client cannot be told.");
        }
        catch (ConnectorException e) when (e.Kind == ConnectorErrorKind.InvalidGrant || e.UpstreamError == "invalid_grant")
        {
            return new("client", true, $"The client credentials were accepted ({method}): the provider refused only the made-up code.");
        }
        catch (ConnectorException e) when (e.UpstreamError is { } code && RefusedClientCodes.Contains(code) || e.Message.Contains("HTTP 401", StringComparison.Ordinal))
        {
            return new("client", false, $"The provider refused the client credentials, sent with {method}: {e.UpstreamError ?? e.Message}. Check the client id, the secret and tokenEndpointAuthMethod.");
        }
        catch (ConnectorException e)
        {
            return new("client", null, $"Cannot tell whether the client is known: {e.Message}");
        }
    }
}

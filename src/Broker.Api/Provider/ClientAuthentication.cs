using System.Text;
using Broker.Grains.Clients;
using Broker.Grains.Tenants;
using Microsoft.AspNetCore.Http;

namespace Broker.Api.Provider;

/// <summary>
/// Authenticates an app client at the provider's back-channel endpoints, by the one method it registered
/// (RFC 6749 §2.3.1): client_secret_basic (the Authorization header, id and secret form-urlencoded),
/// client_secret_post (form members) or none (a public client: its id alone, PKCE proving the rest).
/// </summary>
public static class ClientAuthentication
{
    public sealed record Result(AppClient? Client, string? Error, bool TriedBasic);

    public static async Task<Result> AuthenticateAsync(HttpRequest request, IFormCollection form, ITenantGrain tenant)
    {
        var (basicId, basicSecret, triedBasic) = ReadBasic(request);
        if (triedBasic && basicId is null)
            return new(null, "The Authorization header is not valid Basic credentials.", true);
        if (form["client_id"].Count > 1 || form["client_secret"].Count > 1)
            return new(null, "client_id or client_secret is given more than once.", triedBasic);
        var formId = form["client_id"].FirstOrDefault();
        var formSecret = form["client_secret"].FirstOrDefault();
        if (triedBasic && formSecret is not null)
            return new(null, "Use one client authentication method, not two.", true);
        if (triedBasic && formId is not null && formId != basicId)
            return new(null, "client_id differs from the Basic credentials.", true);
        var clientId = basicId ?? formId;
        if (clientId is null || !Ids.IsTenantOrConnection(clientId) || await tenant.GetClientAsync(clientId) is not { } view)
            return new(null, "Unknown client.", triedBasic);

        var client = view.Client;
        var (method, secret) = triedBasic ? (AppClientAuthMethods.Basic, basicSecret) : formSecret is not null ? (AppClientAuthMethods.Post, formSecret) : (AppClientAuthMethods.None, null);
        if (method != client.TokenEndpointAuthMethod)
            return new(null, $"This client authenticates with {client.TokenEndpointAuthMethod}.", triedBasic);
        if (secret is not null && !await tenant.CheckClientSecretAsync(clientId, secret))
            return new(null, "The client secret is wrong.", triedBasic);
        return new(client, null, triedBasic);
    }

    private static (string? Id, string? Secret, bool Tried) ReadBasic(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            return (null, null, false);
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':');
            if (colon <= 0)
                return (null, null, true);
            return (Uri.UnescapeDataString(decoded[..colon].Replace('+', ' ')), Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' ')), true);
        }
        catch (FormatException)
        {
            return (null, null, true);
        }
    }
}

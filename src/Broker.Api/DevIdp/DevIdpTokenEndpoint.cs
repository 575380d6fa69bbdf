using System.Security.Cryptography;
using System.Text;
using Broker.Grains.Connectors;
using Microsoft.AspNetCore.Http;

namespace Broker.Api.DevIdp;

/// <summary>The dev IdP's token endpoint: authorization_code with PKCE, and rotating refresh tokens.</summary>
internal static class DevIdpTokenEndpoint
{
    public static async Task<IResult> HandleAsync(HttpRequest request, DevIdpTokens tokens, DevIdpOptions options)
    {
        var (form, clientId, problem) = await ReadClientRequestAsync(request);
        if (problem is not null)
        {
            return problem;
        }

        // RFC 6749 §5.1: token responses must not be cached.
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        request.HttpContext.Response.Headers.Pragma = "no-cache";
        return form!["grant_type"].ToString() switch
        {
            "authorization_code" => RedeemCode(form, clientId!, tokens, options),
            "refresh_token" => Refresh(form, clientId!, tokens, options),
            _ => Error("unsupported_grant_type", "Only authorization_code and refresh_token are supported."),
        };
    }

    private static IResult RedeemCode(IFormCollection form, string clientId, DevIdpTokens tokens, DevIdpOptions options)
    {
        var code = tokens.Read(DevIdpTokenKind.Code, form["code"]);
        // RFC 6749 §4.1.3: the code must have been issued to this client for this redirect_uri.
        if (code is null || code.ClientId != clientId || code.RedirectUri != form["redirect_uri"].ToString())
        {
            return Error("invalid_grant", "The code is invalid, expired, or was issued to another client or redirect_uri.");
        }

        if (!VerifierMatches(code.CodeChallenge, form["code_verifier"]))
        {
            return Error("invalid_grant", "The PKCE code_verifier does not match the code_challenge (RFC 7636 §4.6).");
        }

        if (!tokens.TryConsume(code))
        {
            // RFC 6749 §4.1.2: a code used twice is an attack; the tokens it gave are revoked.
            tokens.RevokeFamily(code, options.RefreshTokenLifetime);
            return Error("invalid_grant", "The code was already used.");
        }

        return Issue(code, tokens, options);
    }

    private static IResult Refresh(IFormCollection form, string clientId, DevIdpTokens tokens, DevIdpOptions options)
    {
        var refresh = tokens.Read(DevIdpTokenKind.RefreshToken, form["refresh_token"]);
        if (refresh is null || refresh.ClientId != clientId)
        {
            return Error("invalid_grant", "The refresh token is invalid, expired, revoked, or was issued to another client.");
        }

        if (!tokens.TryConsume(refresh))
        {
            // Refresh tokens rotate; a second use means one leaked (OAuth 2.0 Security BCP §4.14.2),
            // so the whole family is revoked and the legitimate holder must sign in again.
            tokens.RevokeFamily(refresh, options.RefreshTokenLifetime);
            return Error("invalid_grant", "The refresh token was already used.");
        }

        return Issue(refresh, tokens, options);
    }

    private static IResult Issue(DevIdpGrant grant, DevIdpTokens tokens, DevIdpOptions options)
    {
        var now = tokens.Now;
        var access = grant with { Id = DevIdpTokens.NewId(), RedirectUri = null, CodeChallenge = null, IssuedAt = now, ExpiresAt = now + options.AccessTokenLifetime };
        var refresh = access with { Id = DevIdpTokens.NewId(), ExpiresAt = now + options.RefreshTokenLifetime };
        return Results.Json(new
        {
            access_token = tokens.Protect(DevIdpTokenKind.AccessToken, access),
            token_type = "Bearer",
            expires_in = (long)options.AccessTokenLifetime.TotalSeconds,
            refresh_token = tokens.Protect(DevIdpTokenKind.RefreshToken, refresh),
            scope = grant.Scope,
        });
    }

    private static bool VerifierMatches(string? challenge, string? verifier)
    {
        if (challenge is null)
        {
            // A verifier without a challenge is a client bug or a downgrade attempt.
            return string.IsNullOrEmpty(verifier);
        }

        if (!Pkce.IsValidVerifier(verifier))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Pkce.ComputeChallenge(verifier!)), Encoding.ASCII.GetBytes(challenge));
    }

    /// <summary>
    /// Reads a client's form POST and its client id, from HTTP Basic (RFC 6749 §2.3.1, the id
    /// form-urlencoded inside) or the body. Secrets are not checked: any client is welcome.
    /// </summary>
    public static async Task<(IFormCollection? Form, string? ClientId, IResult? Problem)> ReadClientRequestAsync(HttpRequest request)
    {
        if (await TryReadFormAsync(request) is not { } form)
        {
            return (null, null, Error("invalid_request", "The body must be a readable application/x-www-form-urlencoded form."));
        }

        var bodyId = form["client_id"].ToString();
        string? basicId = null;
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var buffer = new byte[header.Length];
            var decoded = Convert.TryFromBase64String(header[6..].Trim(), buffer, out var length) ? Encoding.UTF8.GetString(buffer, 0, length) : "";
            var colon = decoded.IndexOf(':');
            basicId = colon > 0 ? Uri.UnescapeDataString(decoded[..colon].Replace('+', ' ')) : null;
            if (basicId is null)
            {
                return (form, null, InvalidClient("The Basic credentials are malformed."));
            }
        }

        if (basicId is not null && bodyId.Length > 0 && bodyId != basicId)
        {
            return (form, null, Error("invalid_request", "client_id in the body differs from the Basic credentials."));
        }

        var clientId = basicId ?? (bodyId.Length > 0 ? bodyId : null);
        return clientId is null ? (form, null, InvalidClient("The client did not identify itself.")) : (form, clientId, null);
    }

    /// <summary>The form, or null when the body is no form or cannot be read (malformed, over the
    /// framework's limits): the client's fault, never a 500.</summary>
    public static async Task<IFormCollection?> TryReadFormAsync(HttpRequest request)
    {
        if (!request.HasFormContentType)
        {
            return null;
        }

        try
        {
            return await request.ReadFormAsync();
        }
        catch (Exception e) when (ErrorResponses.IsClientFault(e))
        {
            return null;
        }
    }

    /// <summary>An RFC 6749 §5.2 error response.</summary>
    public static IResult Error(string error, string description) =>
        Results.Json(new { error, error_description = description }, statusCode: StatusCodes.Status400BadRequest);

    private static IResult InvalidClient(string description) =>
        Results.Json(new { error = "invalid_client", error_description = description }, statusCode: StatusCodes.Status401Unauthorized);
}

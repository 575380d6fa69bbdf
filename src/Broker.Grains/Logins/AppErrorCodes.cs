using Broker.Grains.Connectors;

namespace Broker.Grains.Logins;

/// <summary>Which upstream errors go back to the app as they are (docs/design.md §6).</summary>
public static class AppErrorCodes
{
    // RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6: codes an app already knows how to handle.
    private static readonly HashSet<string> Standard = new(StringComparer.Ordinal)
    {
        "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
        "invalid_scope", "server_error", "temporarily_unavailable",
        "interaction_required", "login_required", "account_selection_required", "consent_required",
        "invalid_request_uri", "invalid_request_object", "request_not_supported",
        "request_uri_not_supported", "registration_not_supported",
    };

    /// <summary>An error the provider put in the callback: a standard code passes, anything else is server_error.</summary>
    public static string FromCallback(string error) => Standard.Contains(error) ? error : "server_error";

    /// <summary>A failure of the code exchange or of the profile fetch, as the app should see it.</summary>
    public static string FromConnector(ConnectorException e) => e.Kind switch
    {
        ConnectorErrorKind.AccessDenied => "access_denied",
        ConnectorErrorKind.UpstreamUnavailable => "temporarily_unavailable",
        _ => "server_error",
    };
}

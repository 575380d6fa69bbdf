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

    /// <summary>The most an <c>error_description</c> sent to the app holds (docs/design.md §6).</summary>
    public const int MaxDescriptionLength = 300;

    /// <summary>
    /// The <c>error_description</c> for an error the provider put in the callback: its own description when it
    /// sent one; for a code that is not passed on, what it was.
    /// </summary>
    public static string? DescribeCallback(CallbackInput callback) => Printable(
        Standard.Contains(callback.Error!) ? callback.ErrorDescription
            : $"The provider reported '{callback.Error}'" + (callback.ErrorDescription is { Length: > 0 } d ? $": {d}" : "."),
        callback.Code);

    /// <summary>
    /// What failed, in plain words, for a failure of the code exchange or the profile fetch. A connector's
    /// message never holds a secret or a token (<see cref="ConnectorException"/>); the provider's own
    /// description is added when it sent one.
    /// </summary>
    public static string? DescribeConnector(ConnectorException e, string? code) => Printable(e.Kind switch
    {
        ConnectorErrorKind.AccessDenied => "The provider refused the sign-in",
        ConnectorErrorKind.InvalidGrant => "The provider refused the authorization code",
        ConnectorErrorKind.InvalidCallback => "The provider's answer could not be verified",
        ConnectorErrorKind.UpstreamUnavailable => "The provider could not be reached or did not answer usably; try again",
        _ => "The connection to the provider is misconfigured",
    } + $" ({e.Message.TrimEnd('.')})" + (e.UpstreamErrorDescription is { Length: > 0 } d ? $": {d}" : "."), code);

    /// <summary>
    /// Text fit for a URL an app shows: no control characters, at most <see cref="MaxDescriptionLength"/>
    /// characters, and without the authorization code, should a provider have echoed it.
    /// </summary>
    public static string? Printable(string? text, string? code = null)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (!string.IsNullOrEmpty(code))
            text = text.Replace(code, "[code]", StringComparison.Ordinal);
        text = new string([.. text.Select(c => char.IsControl(c) ? ' ' : c)]).Trim();
        return text.Length <= MaxDescriptionLength ? text : text[..(MaxDescriptionLength - 1)] + "…";
    }

    /// <summary>A failure of the code exchange or of the profile fetch, as the app should see it.</summary>
    public static string FromConnector(ConnectorException e) => e.Kind switch
    {
        ConnectorErrorKind.AccessDenied => "access_denied",
        ConnectorErrorKind.UpstreamUnavailable => "temporarily_unavailable",
        _ => "server_error",
    };
}

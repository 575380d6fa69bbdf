using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.Qq;

/// <summary>
/// QQ Connect bodies, read by their shape because every one of them is served as
/// <c>text/html</c> (PROVIDERS.md §3 quirk 1): JSON, the JSONP wrapper <c>callback( {...} );</c>,
/// or a form-encoded <c>access_token=..&amp;expires_in=..</c>. Errors use two conventions:
/// numeric <c>error</c>/<c>error_description</c> (OAuth endpoints) and <c>ret</c>/<c>msg</c> (OpenAPI).
/// </summary>
public static class QqResponses
{
    // Codes from QQ's "公共返回码说明" (wiki.opensns.qq.com, quoted at blog.csdn.net/load_life/article/details/7239848).
    private static readonly HashSet<long> GrantCodes =
    [
        100005, // code missing
        100006, // refresh token missing
        100013, // access token illegal
        100014, // access token expired
        100015, // access token revoked
        100016, // access token verification failed
        100018, // getting the code failed
        100019, // exchanging the code failed
        100020, // code reused
        100022, // getting the refresh token failed
    ];

    private static readonly HashSet<long> ConfigurationCodes =
    [
        100000, 100001, 100002, 100003, 100004, 100007, // a parameter the broker builds is missing
        100008, // no such appid
        100009, // client_secret (appkey) illegal
        100010, // redirect_uri not registered
        100011, // app not online
        100012, 100028, 100029, // malformed request
        100031, // the app has no permission for this API
        100048, // unionid=1 without approval (QN)
    ];

    /// <summary>Token errors of the OpenAPI (<c>ret</c>): 100013-100016 above, and 1002 "请先登录" (QN).</summary>
    public static readonly IReadOnlySet<long> TokenRejectedCodes = new HashSet<long> { 100013, 100014, 100015, 100016, 1002 };

    /// <summary>Parses a body by its shape; null when it is none of JSON, JSONP or a form.</summary>
    public static JsonObject? Parse(string body)
    {
        var text = body.Trim();
        if (text.StartsWith("callback", StringComparison.Ordinal))
        {
            // callback( {"client_id":"..","openid":".."} );  (yii2-authclient#231, go-macaron/oauth2#3)
            var open = text.IndexOf('(');
            var close = text.LastIndexOf(')');
            text = open >= 0 && close > open ? text[(open + 1)..close].Trim() : "";
        }

        if (text.StartsWith('{'))
        {
            return OAuth2Responses.ParseObject(text);
        }

        if (!text.Contains('=') || text.Contains('<') || text.Contains(' '))
        {
            return null;
        }

        var form = new JsonObject();
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.IndexOf('=');
            form[WebUtility.UrlDecode(at < 0 ? pair : pair[..at])] = at < 0 ? "" : WebUtility.UrlDecode(pair[(at + 1)..]);
        }

        return form;
    }

    /// <summary>The failure a body reports, as (code, text): a non-zero <c>error</c> or <c>ret</c>; null when it reports none.</summary>
    public static (string Code, string? Text)? Failure(JsonObject json)
    {
        foreach (var (codeName, textName) in new[] { ("error", "error_description"), ("ret", "msg") })
        {
            if (OAuth2Responses.GetString(json, codeName) is { Length: > 0 } code && code != "0")
            {
                return (code, OAuth2Responses.GetString(json, textName));
            }
        }

        return null;
    }

    /// <summary>
    /// Turns a QQ failure into the exception callers branch on. The message names the call and the
    /// code only; the description is kept apart, cut short, and scrubbed of <paramref name="secret"/>
    /// in case a server ever echoes the request's query.
    /// </summary>
    public static ConnectorException ToException(string code, string? text, string what, string? secret)
    {
        var kind = long.TryParse(code, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n switch
            {
                _ when GrantCodes.Contains(n) => ConnectorErrorKind.InvalidGrant,
                _ when ConfigurationCodes.Contains(n) => ConnectorErrorKind.Misconfigured,
                100030 => ConnectorErrorKind.AccessDenied, // the user withdrew the API's permission
                _ => ConnectorErrorKind.UpstreamUnavailable,
            }
            : ConnectorErrorKind.UpstreamUnavailable;
        var safeCode = code.Length <= 16 && code.All(c => char.IsAsciiDigit(c) || c == '-') ? code : "unrecognised";
        return new ConnectorException(kind, $"QQ's {what} refused the request: error {safeCode}.", safeCode, Scrub(text, secret));
    }

    /// <summary>Removes the secret from upstream text and keeps it short and printable.</summary>
    public static string? Scrub(string? text, string? secret)
    {
        if (text is null)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(secret))
        {
            text = text.Replace(secret, "***", StringComparison.Ordinal).Replace(Uri.EscapeDataString(secret), "***", StringComparison.Ordinal);
        }

        return new string(text.Take(200).Where(c => !char.IsControl(c)).ToArray());
    }

    /// <summary><c>expires_in</c> as a number or a numeric string (synctv-org/synctv#329), in seconds.</summary>
    public static long? ExpiresIn(JsonObject json) => OAuth2Responses.GetSeconds(json, "expires_in");

    /// <summary>Whether a member is present as a non-empty string or number.</summary>
    public static bool Has(JsonObject json, string name) =>
        json[name] is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number && OAuth2Responses.GetString(json, name) is { Length: > 0 };
}

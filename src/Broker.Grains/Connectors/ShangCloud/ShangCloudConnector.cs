using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Connectors.Http;
using Broker.Grains.Connectors.OAuth2;

namespace Broker.Grains.Connectors.ShangCloud;

/// <summary>
/// The <c>shangcloud</c> connection type: ShangCloud (api.yearnstudio.cn, PROVIDERS.md §2). One
/// host serves authorize, token and the API. The code is exchanged with HTTP Basic, exactly as the
/// four SDKs send it; the user is <c>POST /api/user/info</c>; the proxy reaches <c>/api/</c>
/// (e.g. <c>POST /api/varibles</c>, sic, scope <c>var:io</c>).
/// </summary>
/// <remarks>
/// Refresh, which no server SDK does: <c>grant_type=refresh_token&amp;refresh_token&amp;client_id</c>
/// as the Unity and Godot SDKs send it, plus the Basic header, because a confidential client
/// must authenticate at refresh (RFC 6749 §6). <c>tokenEndpointAuthMethod: none</c> (a public
/// PKCE client) drops the Basic header. The connector keeps nothing between calls: the grain
/// builds one per call from the stored connection, so a rotated secret is used at once.
/// </remarks>
public sealed class ShangCloudConnector : IRefreshConnector, IApiConnector
{
    /// <summary>The real host.</summary>
    public const string DefaultBaseUrl = "https://api.yearnstudio.cn";

    private const string DefaultScope = "user:basic";
    private readonly ConnectionConfig config;
    private readonly ConnectorContext context;
    private readonly string authorizeEndpoint;
    private readonly string tokenEndpoint;
    private readonly string userinfoEndpoint;

    /// <summary>Creates the connector for one connection.</summary>
    public ShangCloudConnector(ConnectionConfig config, ConnectorContext context)
    {
        this.config = config;
        this.context = context;
        authorizeEndpoint = ProviderUrls.Resolve(config.Endpoints.Authorize, config.BaseUrl, DefaultBaseUrl, "oauth/authorize");
        tokenEndpoint = ProviderUrls.Resolve(config.Endpoints.Token, config.BaseUrl, DefaultBaseUrl, "oauth/token");
        userinfoEndpoint = ProviderUrls.Resolve(config.Endpoints.Userinfo, config.BaseUrl, DefaultBaseUrl, "api/user/info");
        ApiBaseUrl = ProviderUrls.AsBase(config.ApiBaseUrl ?? ProviderUrls.Join(config.BaseUrl ?? DefaultBaseUrl, "api/"));
    }

    /// <inheritdoc />
    public Uri? ApiBaseUrl { get; }

    /// <inheritdoc />
    public ValueTask<AuthorizeRedirect> BuildAuthorizeRequestAsync(AuthorizeInput input, CancellationToken cancellationToken)
    {
        // Scopes are space-separated; user:basic is the SDKs' default.
        var scope = config.Scopes.Count == 0 ? DefaultScope : string.Join(' ', config.Scopes);
        return ValueTask.FromResult(new AuthorizeRedirect(AuthorizeUrl.ForCodeFlow(config, authorizeEndpoint, input, scope, sendNonce: false)));
    }

    /// <inheritdoc />
    public async Task<LoginResult> CompleteAsync(CallbackInput callback, PendingLoginData login, CancellationToken cancellationToken)
    {
        var code = callback.RequireCode();
        var upstream = await Tokens(clientIdInBody: false).ExchangeCodeAsync(tokenEndpoint, code, login.RedirectUri, login.CodeVerifier, cancellationToken);
        var user = await GetUserAsync(upstream, cancellationToken);
        // {uid: int, nickname, mail, avatar} (GO struct tags, PY mapping).
        var subject = OAuth2Responses.GetString(user, "uid");
        if (string.IsNullOrEmpty(subject))
        {
            throw new ConnectorException(ConnectorErrorKind.InvalidCallback, "ShangCloud's /api/user/info answer has no uid.");
        }

        return new LoginResult(upstream, new UpstreamProfile(
            subject, OAuth2Responses.GetString(user, "nickname"), OAuth2Responses.GetString(user, "mail"), OAuth2Responses.GetString(user, "avatar"), user));
    }

    /// <inheritdoc />
    public Task<UpstreamTokens> RefreshAsync(UpstreamTokens current, CancellationToken cancellationToken) =>
        Tokens(clientIdInBody: true).RefreshAsync(tokenEndpoint, current, cancellationToken);

    /// <inheritdoc />
    public void AuthorizeApiRequest(HttpRequestMessage request, UpstreamTokens tokens, UpstreamProfile profile) => Authorize(request, tokens);

    /// <summary>401 asks for a refresh; a 2xx whose JSON has a non-empty <c>error</c> (the variables API) is a failure.</summary>
    public ApiFailure? ClassifyApiResponse(int status, ReadOnlySpan<byte> body)
    {
        if (status is >= 200 and <= 299 && ErrorMember(body) is { } error)
        {
            return new ApiFailure(ApiFailureKind.Failed, null, $"ShangCloud's API reported an error: {error}.");
        }

        return BearerApi.Classify(status);
    }

    private TokenEndpointClient Tokens(bool clientIdInBody) => new(
        config with
        {
            TokenEndpointAuthMethod = config.TokenEndpointAuthMethod == TokenEndpointAuthMethods.None
                ? TokenEndpointAuthMethods.None
                : TokenEndpointAuthMethods.ClientSecretBasic,
        },
        context.Http,
        context.Clock,
        // The SDKs send base64("id:secret") without form-encoding (PY _generate_authorize_header).
        new TokenRequestStyle { RawBasicCredentials = true, ClientIdInBodyWithBasic = clientIdInBody });

    // PY, GO, JV and JS POST an empty JSON object.
    private Task<JsonObject> GetUserAsync(UpstreamTokens tokens, CancellationToken cancellationToken) =>
        UserinfoRequest.FetchObjectAsync(context.Http, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, userinfoEndpoint) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            Authorize(request, tokens);
            return request;
        }, "ShangCloud's user info API", hint: " Is 'user:basic' among the scopes?", cancellationToken);

    private void Authorize(HttpRequestMessage request, UpstreamTokens tokens)
    {
        // PROVIDERS.md §2 quirk 1: the SDKs send "{token_type} {access_token}"; older Unity/Godot
        // code sent the bare token. Option apiTokenScheme=none selects the bare form.
        if (config.Option("apiTokenScheme") == "none")
        {
            request.Headers.TryAddWithoutValidation("Authorization", tokens.AccessToken);
        }
        else
        {
            BearerApi.Authorize(request, tokens);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    private static string? ErrorMember(ReadOnlySpan<byte> body)
    {
        try
        {
            return !body.IsEmpty && JsonNode.Parse(body) is JsonObject json && json["error"] is JsonValue value
                && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } error
                ? new string(error.Take(120).Where(c => !char.IsControl(c)).ToArray())
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

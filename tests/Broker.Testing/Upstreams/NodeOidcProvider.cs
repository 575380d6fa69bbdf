using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Broker.Grains.Connectors;
using Broker.Testing.Processes;

namespace Broker.Testing.Upstreams;

/// <summary>How <see cref="NodeOidcProvider"/> configures its one client.</summary>
public sealed record NodeOidcProviderOptions
{
    /// <summary>The registered client id.</summary>
    public string ClientId { get; init; } = "broker-test";

    /// <summary>The client secret; any printable ASCII (the provider checks the RFC 6749 §2.3.1 encoding).</summary>
    public string ClientSecret { get; init; } = "broker-test-secret";

    /// <summary>The registered redirect URIs; the first is the one tests usually send.</summary>
    public IReadOnlyList<string> RedirectUris { get; init; } = ["https://broker.example/t/acme/callback"];

    /// <summary>The registered <c>post_logout_redirect_uris</c> (RP-Initiated Logout §3.1).</summary>
    public IReadOnlyList<string> PostLogoutRedirectUris { get; init; } = ["https://broker.example/t/acme/logged-out"];

    /// <summary><c>client_secret_basic</c> or <c>client_secret_post</c>; the provider accepts only this one.</summary>
    public string TokenEndpointAuthMethod { get; init; } = "client_secret_basic";

    /// <summary>The access-token lifetime (<c>expires_in</c>), whole seconds. Default 60 s.</summary>
    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// panva's <c>oidc-provider</c> (a certified OpenID Provider, npm) run by Node on 127.0.0.1 with a
/// free port: tests/upstreams/oidc-provider/server.mjs. A real third-party upstream for the
/// connectors: discovery, JWKS, code flow with PKCE, rotating refresh tokens, userinfo, revocation,
/// introspection and end_session, with its built-in login page (any login is accepted; the user is
/// sub = login, name = the login capitalised, email = login@example.test). Needs <c>node</c> and
/// <c>npm</c> on PATH; the first start in a fresh clone runs <c>npm ci</c>.
/// </summary>
public sealed partial class NodeOidcProvider : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeOidcProvider(Process process, NodeOidcProviderOptions options)
    {
        this.process = process;
        Options = options;
    }

    /// <summary>The folder of server.mjs and its package.json.</summary>
    public static string ProjectDirectory { get; } = Path.Combine(RepositoryRoot.Path, "tests", "upstreams", "oidc-provider");

    /// <summary>The issuer, <c>http://127.0.0.1:{port}/</c>; <see cref="IssuerIdentifier"/> is the exact <c>iss</c> string.</summary>
    public Uri Issuer { get; private set; } = null!;

    /// <summary>The options the provider was started with.</summary>
    public NodeOidcProviderOptions Options { get; }

    /// <summary>The registered client id.</summary>
    public string ClientId => Options.ClientId;

    /// <summary>The registered client secret.</summary>
    public string ClientSecret => Options.ClientSecret;

    /// <summary>What the process printed on stderr so far (oidc-provider's warnings, server errors).</summary>
    public string StandardError { get { lock (stderr) return stderr.ToString(); } }

    /// <summary>Installs the npm packages when needed, starts the provider and waits until it listens.</summary>
    public static async Task<NodeOidcProvider> StartAsync(NodeOidcProviderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new NodeOidcProviderOptions();
        await NodeProject.EnsureInstalledAsync(ProjectDirectory, "oidc-provider", cancellationToken);

        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = ProjectDirectory,
        };
        info.ArgumentList.Add("server.mjs");
        info.ArgumentList.Add("--port");
        info.ArgumentList.Add("0");
        info.Environment["OIDC_PROVIDER_CONFIG"] = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["client_id"] = options.ClientId,
            ["client_secret"] = options.ClientSecret,
            ["redirect_uris"] = options.RedirectUris,
            ["post_logout_redirect_uris"] = options.PostLogoutRedirectUris,
            ["token_endpoint_auth_method"] = options.TokenEndpointAuthMethod,
            ["access_token_ttl"] = (int)options.AccessTokenLifetime.TotalSeconds,
        });

        var provider = new NodeOidcProvider(new Process { StartInfo = info }, options);
        provider.process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (provider.stdout)
            {
                provider.stdout.AppendLine(e.Data);
            }

            if (ListeningLine().Match(e.Data) is { Success: true } match)
            {
                provider.listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        provider.process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (provider.stderr)
                {
                    provider.stderr.AppendLine(e.Data);
                }
            }
        };
        Start(provider.process);
        provider.process.BeginOutputReadLine();
        provider.process.BeginErrorReadLine();

        var exited = provider.process.WaitForExitAsync(CancellationToken.None);
        var first = await Task.WhenAny(provider.listening.Task, exited, Task.Delay(StartTimeout, cancellationToken));
        if (first != provider.listening.Task)
        {
            var why = first == exited ? $"exited with code {provider.process.ExitCode}" : $"did not listen within {StartTimeout.TotalSeconds:0} s";
            await provider.DisposeAsync();
            throw new InvalidOperationException(
                $"oidc-provider (node server.mjs in {ProjectDirectory}) {why}.\nstdout:\n{provider.StandardOutputText()}\nstderr:\n{provider.StandardError}");
        }

        provider.Issuer = await provider.listening.Task;
        return provider;
    }

    /// <summary>An <c>oidc</c> connection to this provider as the broker would store it.</summary>
    public ConnectionConfig OidcConnection() => new()
    {
        Id = "node-oidc",
        Type = ConnectionTypes.Oidc,
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        Issuer = IssuerIdentifier,
        TokenEndpointAuthMethod = Options.TokenEndpointAuthMethod,
    };

    /// <summary>The issuer as the <c>iss</c> claim spells it: <see cref="Issuer"/> without the trailing slash <see cref="Uri"/> adds.</summary>
    public string IssuerIdentifier => Issuer.GetLeftPart(UriPartial.Authority);

    /// <summary>
    /// Signs <paramref name="login"/> in as a browser would: requests the authorize URL, follows the
    /// redirects to the login page, posts its form (any password), confirms the consent page if one
    /// is shown (a request with <c>prompt=consent</c>), and stops at the first redirect that leaves
    /// the provider, normally to the client's redirect URI. Returns that URL (with <c>code</c>,
    /// <c>state</c> and <c>iss</c>, or an <c>error</c>) without requesting it. Each call is a new
    /// browser: no cookies are shared.
    /// </summary>
    public Task<string> SignInAsync(Uri authorizeUrl, string login, CancellationToken cancellationToken = default) =>
        BrowseAsync(authorizeUrl, new() { ["login"] = login, ["password"] = "any password" }, cancellationToken);

    /// <summary>
    /// Follows an RP-initiated logout URL as a browser would: answers "yes" on the provider's
    /// sign-out page and returns the redirect that leaves the provider (the
    /// <c>post_logout_redirect_uri</c> with <c>state</c>) without requesting it.
    /// </summary>
    public Task<string> SignOutAsync(Uri logoutUrl, CancellationToken cancellationToken = default) =>
        BrowseAsync(logoutUrl, new() { ["logout"] = "yes" }, cancellationToken);

    /// <summary>
    /// A cookie-keeping browser that follows redirects and submits each page's form (its hidden
    /// fields plus those of <paramref name="answers"/> the page asks for) until a redirect leaves
    /// the provider's origin.
    /// </summary>
    private async Task<string> BrowseAsync(Uri start, Dictionary<string, string> answers, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer(), UseCookies = true };
        using var browser = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var url = start;
        var response = await browser.GetAsync(url, cancellationToken);
        for (var step = 0; step < 20; step++)
        {
            HttpResponseMessage next;
            using (response)
            {
                if (IsRedirect(response.StatusCode))
                {
                    var location = new Uri(url, response.Headers.Location ?? throw new InvalidOperationException($"A {(int)response.StatusCode} from {url} has no Location."));
                    if (Uri.Compare(location, Issuer, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
                    {
                        return location.AbsoluteUri;
                    }

                    url = location;
                    next = await browser.GetAsync(url, cancellationToken);
                }
                else
                {
                    var body = await response.Content.ReadAsStringAsync(cancellationToken);
                    if (response.StatusCode != HttpStatusCode.OK || FormTag().Match(body) is not { Success: true } form)
                    {
                        throw new InvalidOperationException(
                            $"Expected a redirect or a form from {url}, got {(int)response.StatusCode}:\n{body}\nprovider stderr:\n{StandardError}");
                    }

                    // The login page posts prompt=login, login and password; the consent page,
                    // prompt=consent; the sign-out page, xsrf and logout=yes.
                    var fields = HiddenInputs().Matches(body)
                        .ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));
                    foreach (var (name, value) in answers)
                    {
                        if (body.Contains($"name=\"{name}\"", StringComparison.Ordinal))
                        {
                            fields[name] = value;
                        }
                    }

                    url = new Uri(url, WebUtility.HtmlDecode(form.Groups["action"].Value));
                    using var content = new FormUrlEncodedContent(fields);
                    next = await browser.PostAsync(url, content, cancellationToken);
                }
            }

            response = next;
        }

        response.Dispose();
        throw new InvalidOperationException($"The browser did not leave the provider within 20 steps (last: {url}).");
    }

    /// <summary>Stops the provider: SIGTERM, then a kill if it has not exited within 5 s.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                _ = Kill(process.Id, Sigterm);
                try
                {
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
                }
                catch (TimeoutException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        process.Dispose();
    }

    private static void Start(Process process)
    {
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Cannot run '{process.StartInfo.FileName}' (is Node.js installed and on PATH?): {e.Message}", e);
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and < 400;

    private string StandardOutputText()
    {
        lock (stdout)
        {
            return stdout.ToString();
        }
    }

    private const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"^LISTENING (http://\S+)$")]
    private static partial Regex ListeningLine();

    [GeneratedRegex("<form[^>]*\\saction=\"(?<action>[^\"]+)\"", RegexOptions.IgnoreCase)]
    private static partial Regex FormTag();

    [GeneratedRegex("<input[^>]*type=\"hidden\"[^>]*name=\"(?<name>[^\"]+)\"[^>]*value=\"(?<value>[^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex HiddenInputs();
}

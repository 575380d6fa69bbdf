namespace Broker.Testing.Upstreams;

/// <summary>A request a fake upstream received, for asserting what went over the wire.</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Path without the query.</param>
/// <param name="Query">Query parameters (first value of each).</param>
/// <param name="Form">Form body parameters, when the body was a form.</param>
/// <param name="Headers">Request headers (joined values), case-insensitive.</param>
public sealed record RecordedRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Form,
    IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>The Authorization header, if any.</summary>
    public string? Authorization => Headers.GetValueOrDefault("Authorization");
}

/// <summary>What a fake endpoint should do instead of answering normally, once per queued entry.</summary>
public abstract record FakeFailure
{
    /// <summary>503, optionally with <c>Retry-After</c> in seconds.</summary>
    public static FakeFailure ServiceUnavailable(int? retryAfterSeconds = null) => new Status(503, RetryAfterSeconds: retryAfterSeconds);

    /// <summary>Never answers (until the client gives up or the fake is disposed).</summary>
    public static FakeFailure Hang { get; } = new HangFailure();

    /// <summary>An RFC 6749 §5.2 error body with the given status.</summary>
    public static FakeFailure OAuthError(string error, int status = 400, string? description = null) => new Status(status, error, description);

    /// <summary>A plain status code, optionally with an OAuth error body.</summary>
    public sealed record Status(int Code, string? Error = null, string? Description = null, int? RetryAfterSeconds = null) : FakeFailure;

    /// <summary>See <see cref="Hang"/>.</summary>
    public sealed record HangFailure : FakeFailure;

    /// <summary>Answers the request the way this failure says: hangs until the client or the fake gives
    /// up, or answers the status (with its OAuth error body and Retry-After when set).</summary>
    public async Task<Microsoft.AspNetCore.Http.IResult> AnswerAsync(Microsoft.AspNetCore.Http.HttpContext context, CancellationToken stopping)
    {
        switch (this)
        {
            case HangFailure:
                using (var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping))
                {
                    await Task.Delay(Timeout.Infinite, both.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }

                return Microsoft.AspNetCore.Http.Results.StatusCode(499);
            case Status status:
                if (status.RetryAfterSeconds is { } seconds)
                {
                    context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                return status.Error is null
                    ? Microsoft.AspNetCore.Http.Results.StatusCode(status.Code)
                    : Microsoft.AspNetCore.Http.Results.Json(new { error = status.Error, error_description = status.Description }, statusCode: status.Code);
            default:
                throw new InvalidOperationException($"Unknown failure {this}.");
        }
    }
}

/// <summary>The endpoints of <see cref="FakeOidcProvider"/> that can be told to fail.</summary>
public enum FakeEndpoint
{
    /// <summary><c>/.well-known/openid-configuration</c>.</summary>
    Discovery,
    /// <summary><c>/jwks</c>.</summary>
    Jwks,
    /// <summary><c>/token</c>.</summary>
    Token,
    /// <summary><c>/userinfo</c>.</summary>
    Userinfo,
    /// <summary><c>/revoke</c>.</summary>
    Revocation,
    /// <summary><c>/introspect</c>.</summary>
    Introspection,
}

/// <summary>An <see cref="IHttpClientFactory"/> that hands out clients over one shared handler, for tests.</summary>
public sealed class TestHttpClientFactory : IHttpClientFactory, IDisposable
{
    private readonly HttpMessageHandler handler;

    /// <summary>Creates the factory over a new <see cref="SocketsHttpHandler"/> or the given handler.</summary>
    public TestHttpClientFactory(HttpMessageHandler? handler = null) =>
        this.handler = handler ?? new SocketsHttpHandler { AllowAutoRedirect = false };

    /// <summary>Number of clients created, by name.</summary>
    public int Created { get; private set; }

    /// <inheritdoc />
    public HttpClient CreateClient(string name)
    {
        Created++;
        return new HttpClient(handler, disposeHandler: false);
    }

    /// <inheritdoc />
    public void Dispose() => handler.Dispose();
}

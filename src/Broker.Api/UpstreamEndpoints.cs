using Broker.Grains;
using System.Text.Json.Nodes;
using Broker.Grains.Connectors.Api;
using Broker.Grains.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary>
/// The upstream proxy (docs/design.md §3): a tenant's back end calls the provider's API with a session's
/// token without ever holding it. The answer is the provider's own status and body, marked with
/// <c>Broker-Upstream: true</c> so a caller can tell it from the broker's own errors.
/// </summary>
public static class UpstreamEndpoints
{
    public const string UpstreamHeader = "Broker-Upstream";

    public static IEndpointRouteBuilder MapUpstreamEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/tenants/{tenant}/sessions/{session}/upstream", CallAsync).WithTags("Sessions").WithName("CallUpstream");
        return app;
    }

    public sealed record UpstreamBody(string? Method, string? Path, Dictionary<string, string>? Query, JsonNode? Body,
        Dictionary<string, string>? Headers = null, Dictionary<string, string>? Form = null);

    public static async Task<IResult> CallAsync(string tenant, string session, HttpContext http, IGrainFactory grains)
    {
        var body = await JsonBody.ReadAsync<UpstreamBody>(http.Request, Validate, freeText: "body");
        var grain = grains.Session(session);
        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("session", Ids.IsSession(session))],
            Body = body.Check,
            Tenant = tenant,
            Resource = new Lookup("session", async owner => await grain.GetAsync(owner) is not null),
        });
        if (check.Refused is { } refused)
            return refused;

        var request = body.Value!;
        var call = new UpstreamCall(request.Method!, request.Path!, request.Query, request.Body?.ToJsonString(), request.Headers, request.Form);
        http.Response.Headers.CacheControl = "no-store";
        switch (await grain.CallUpstreamAsync(check.Tenant!, call))
        {
            case UpstreamCallOutcome.Response response:
                return new Relayed(response);
            case UpstreamCallOutcome.Refused target:
                return Problems.Create(StatusCodes.Status400BadRequest, target.Code, "The upstream call was refused; nothing was sent.", target.Detail);
            case UpstreamCallOutcome.Ended ended:
                return Problems.SessionEnded(ended.Reason);
            case UpstreamCallOutcome.Unavailable unavailable:
                return Problems.Create(StatusCodes.Status502BadGateway, unavailable.Code, "The provider's API did not give a usable answer.", unavailable.Detail);
            default:
                return Problems.NotFound("session");
        }
    }

    /// <summary>The provider's answer as it came: status, content type, body.</summary>
    private sealed class Relayed(UpstreamCallOutcome.Response response) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = response.Status;
            http.Response.Headers[UpstreamHeader] = "true";
            foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>())
                http.Response.Headers[name] = value;
            // 1xx, 204 and 304 have no content (RFC 9110 §6.4.1): writing any, even none with a length,
            // made Kestrel end the connection after the answer, and the caller's next request on it failed.
            if (response.Status is < 200 or 204 or 304)
                return;
            http.Response.ContentType = response.ContentType;
            http.Response.ContentLength = response.Body.Length;
            await http.Response.Body.WriteAsync(response.Body);
        }
    }

    /// <summary>Shape checks that need no session: the method, and a path that could never be below
    /// any API base (absolute URLs, dot segments, encoded slashes) is refused as a malformed body.</summary>
    private static Dictionary<string, string[]> Validate(UpstreamBody body)
    {
        var errors = new Dictionary<string, string[]>();
        if (!Grains.Sessions.UpstreamProxy.IsAllowedMethod(body.Method))
            errors["method"] = ["must be GET, POST, PUT, PATCH or DELETE."];
        if (string.IsNullOrEmpty(body.Path))
            errors["path"] = ["is required."];
        else if (ApiTarget.Resolve(new Uri("https://api.invalid/"), body.Path, body.Query) is { IsValid: false, Error: var error })
            errors["path"] = [error!];
        if (body.Body is not null && body.Method is "GET" or "DELETE")
            errors["body"] = ["is not sent with GET or DELETE."];
        if (body.Form is not null && body.Method is "GET" or "DELETE")
            errors["form"] = ["is not sent with GET or DELETE."];
        if (body.Form is not null && body.Body is not null)
            errors["form"] = ["and body are two ways to send one body: send one."];
        foreach (var (name, value) in body.Headers ?? [])
        {
            if (!UpstreamProxy.RequestHeaders.Contains(name))
                errors[$"headers.{name}"] = [$"is not a header the broker passes on; these are: {string.Join(", ", UpstreamProxy.RequestHeaders.Order(StringComparer.Ordinal))}."];
            else if (name.Equals("content-type", StringComparison.OrdinalIgnoreCase) && body.Body is null)
                errors[$"headers.{name}"] = ["is only sent with a JSON body (a form sets its own)."];
            else if (name.Equals("content-type", StringComparison.OrdinalIgnoreCase) && !System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(value, out _))
                errors[$"headers.{name}"] = ["is not a media type."];
            else if (value.Length > 1024 || value.Any(char.IsControl))
                errors[$"headers.{name}"] = ["must be at most 1024 characters without control characters."];
        }
        return errors;
    }
}

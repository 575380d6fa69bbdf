using Broker.Grains.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace Broker.Api;

/// <summary>
/// What the OpenAPI document says of each route beyond what its handler's types show: a summary, the
/// request body (bodies are read by hand, <see cref="JsonBody"/>, so nothing infers them), every error
/// it answers (problem+json on the REST API, a short HTML page on browser routes), the bearer it takes,
/// and the values a status or end reason can have. <c>OpenApiDocumentTests</c> holds each declared
/// status to a request that gets it.
/// </summary>
public static class ApiDescriptions
{
    private const string Problem = "application/problem+json";

    // Success: answers besides those the handler's result types declare (a page, a redirect, a relayed answer).
    private sealed record Route(string Summary, Type? Body, int[] Problems, bool Browser = false, int[]? Success = null);

    private static readonly Dictionary<string, Route> Routes = new(StringComparer.Ordinal)
    {
        ["CreateTenant"] = new("Create a tenant; the answer holds its first API key, shown this once", typeof(CreateTenantBody), [400, 401, 409, 413]),
        ["ListTenants"] = new("List the tenants in id order, a page at a time", null, [400, 401]),
        ["GetTenant"] = new("Read a tenant", null, [400, 401, 404]),
        ["DeleteTenant"] = new("Delete a tenant: its keys stop working at once, its sessions end and are revoked upstream", null, [400, 401, 404]),
        ["AddApiKey"] = new("Add an API key; the older ones stay valid until deleted", null, [400, 401, 404, 409]),
        ["ListApiKeys"] = new("List a tenant's API keys by id (never the keys)", null, [400, 401, 404]),
        ["DeleteApiKey"] = new("Delete an API key", null, [400, 401, 404]),
        ["PatchTenant"] = new("Change a tenant's display name, return URLs or session policy", typeof(PatchTenantBody), [400, 401, 404, 409, 413]),
        ["PutConnection"] = new("Create (201) or replace (200) a connection to an upstream provider", typeof(ConnectionBody), [400, 401, 404, 409, 413]),
        ["ListConnections"] = new("List a tenant's connections (never a secret)", null, [400, 401, 404]),
        ["GetConnection"] = new("Read a connection (never its secret)", null, [400, 401, 404]),
        ["CheckConnection"] = new("Ask the provider, without a user, whether the connection works: discovery, keys, authorize endpoint, client credentials; failures are findings in the 200", null, [400, 401, 404]),
        ["ListEvents"] = new("The tenant's audit trail, newest first: logins, session ends, refresh failures, connection and key changes", null, [400, 401, 404]),
        ["DeleteConnection"] = new("Delete a connection", null, [400, 401, 404]),
        ["ExchangeCode"] = new("Redeem a hand-off code for the session it stands for (once, within 60 s)", typeof(ExchangeBody), [400, 401, 404, 413, 429]),
        ["GetSession"] = new("Read a session: status, user, expiry and token times (never a token)", null, [400, 401, 404]),
        ["GetSessionToken"] = new("The session's current upstream access token, refreshed first when it is due", null, [400, 401, 404, 409, 503]),
        ["RefreshSession"] = new("Refresh the session's upstream tokens now", null, [400, 401, 404, 409, 503]),
        ["IntrospectSession"] = new("Ask the provider whether the session's token is still active (RFC 7662); an inactive one ends the session as revoked", null, [400, 401, 404, 409, 503]),
        ["DeleteSession"] = new("Log the session out; its upstream tokens are revoked where the provider can", null, [400, 401, 404]),
        ["ListUserSessions"] = new("List a user's sessions", null, [400, 401, 404]),
        ["EndUserSessions"] = new("End every active session of a user (end reason revoked)", null, [400, 401, 404]),
        ["ListUsers"] = new("The tenant's user directory in creation order, a page at a time; filter by connection or by the start of a name or e-mail, or an exact subject", null, [400, 401, 404]),
        ["GetUser"] = new("Read a user: its identities with the profile of each one's last login, and how many sessions are active", null, [400, 401, 404]),
        ["PatchUser"] = new("Block or unblock a user; blocking ends every session (revoked upstream) and refuses its logins", typeof(PatchUserBody), [400, 401, 404, 413]),
        ["DeleteUser"] = new("Delete a user: its sessions end (revoked upstream), its profile and identities are forgotten; an identity that signs in again is a new user", null, [400, 401, 404]),
        ["UnlinkIdentity"] = new("Unlink one identity (subject percent-encoded) from a user and end its sessions; its next login makes a new user", null, [400, 401, 404, 409]),
        ["CreateLink"] = new("A one-time browser URL (10 minutes) that signs in at another connection and links that identity to the session's user", typeof(LinkBody), [400, 401, 404, 409, 413, 503]),
        ["PutClient"] = new("Register (201) or replace (200) an app client of the tenant's OpenID Provider; the answer holds clientSecret only when this call made one", typeof(AppClientBody), [400, 401, 404, 409, 413]),
        ["ListClients"] = new("List the tenant's app clients by id (never a secret)", null, [400, 401, 404]),
        ["GetClient"] = new("Read an app client (never its secret)", null, [400, 401, 404]),
        ["DeleteClient"] = new("Delete an app client", null, [400, 401, 404]),
        ["RotateClientSecret"] = new("A new secret for a confidential app client, shown once; the old one stops working at once", null, [400, 401, 404, 409]),
        ["CallUpstream"] = new("Call the provider's API with the session's token; the provider's answer is relayed as it came", typeof(UpstreamEndpoints.UpstreamBody), [400, 401, 404, 409, 413, 502], Success: [200]),
        ["Login"] = new("Browser: begin a login; redirects (302) to the provider, or shows a page (200) to choose a connection", null, [400, 404, 429], Browser: true, Success: [200, 302]),
        ["Callback"] = new("Browser: the provider's redirect back; redirects (302) to the app's return URL with a hand-off code or an error", null, [400, 404, 429], Browser: true, Success: [302]),
        ["Logout"] = new("Browser: end a session and redirect (302) to the provider's logout or the app", null, [400, 404], Browser: true, Success: [302]),
    };

    /// <summary>The JSON body a route reads, for the document only.</summary>
    private sealed record RequestBody(Type Type);

    /// <summary>A route that answers 302 (a response with no body, which the generator leaves out).</summary>
    private sealed record Redirects;

    // The members a request body must have. Records list every constructor parameter as required; in these
    // bodies a member left out takes its default (docs/api.md says which).
    private static readonly Dictionary<Type, string[]> RequiredMembers = new()
    {
        [typeof(CreateTenantBody)] = ["id", "displayName", "returnUrls"],
        [typeof(PatchTenantBody)] = [],
        [typeof(ConnectionBody)] = ["type"],
        [typeof(ExchangeBody)] = ["code"],
        [typeof(UpstreamEndpoints.UpstreamBody)] = ["method", "path"],
        [typeof(SessionPolicyBody)] = [],
        [typeof(PatchUserBody)] = ["blocked"],
        [typeof(LinkBody)] = ["connection"],
        [typeof(AppClientBody)] = ["redirectUris"],
        [typeof(EndpointsBody)] = [],
    };

    private static readonly (string Name, string Description)[] LoginHintParameters =
    [
        ("login_hint", "Passed to an OpenID Connect provider: who is signing in (1-256 characters)."),
        ("prompt", "Passed to an OpenID Connect provider: none, or any of login, consent, select_account."),
        ("ui_locales", "Passed to an OpenID Connect provider: preferred languages, space-separated tags."),
        ("max_age", "Passed to an OpenID Connect provider: the longest time since the user last authenticated, in seconds."),
        ("scope", "Scopes beyond the connection's, space-separated; each must be in its allowedExtraScopes."),
    ];

    /// <summary>The names of the routes described, for the test that holds the document to the routes.</summary>
    public static IReadOnlyCollection<string> Names => Routes.Keys;

    public static TBuilder WithApiDescriptions<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            var name = endpoint.Metadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
            if (name is null || !Routes.TryGetValue(name, out var route))
                return;
            endpoint.Metadata.Add(new EndpointSummaryAttribute(route.Summary));
            // Not AcceptsMetadata: routing would answer a wrong content type with its own 415 before the
            // handler's checks, whose order (400 first) is part of the contract. The document reads this.
            if (route.Body is { } body)
                endpoint.Metadata.Add(new RequestBody(body));
            foreach (var status in route.Success ?? [])
            {
                endpoint.Metadata.Add(status == StatusCodes.Status302Found ? new Redirects()
                    : route.Browser ? new ProducesResponseTypeMetadata(status, typeof(string), ["text/html"])
                    : new ProducesResponseTypeMetadata(status, typeof(System.Text.Json.Nodes.JsonNode), ["application/json"]));
            }
            foreach (var status in route.Problems)
            {
                endpoint.Metadata.Add(route.Browser
                    ? new ProducesResponseTypeMetadata(status, typeof(string), ["text/html"])
                    : new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), [Problem]));
            }
        });
        return builder;
    }

    /// <summary>The bearer scheme, the routes that take it, and the closed sets of values the types cannot say.</summary>
    public static OpenApiOptions DescribeBrokerApi(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Broker";
            document.Info.Description = "A multi-tenant identity broker. /admin routes take the admin token, /api/tenants/{tenant} routes that tenant's API key (or the admin token); both as `Authorization: Bearer`.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The admin token on /admin; a tenant's API key (`{tenant}.{id}.{secret}`) or the admin token on /api/tenants/{tenant}.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(async (operation, context, cancellationToken) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestBody>().FirstOrDefault() is { } body)
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(body.Type, cancellationToken: cancellationToken) },
                    },
                };
            }
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<Redirects>().Any())
            {
                operation.Responses ??= new OpenApiResponses();
                operation.Responses["302"] = new OpenApiResponse
                {
                    Description = "Found: the browser goes on to the URL in Location.",
                    Headers = new Dictionary<string, IOpenApiHeader> { ["Location"] = new OpenApiHeader { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri" } } },
                };
            }
            // The login's own hints are read from the query by hand (LoginHintsQuery), so nothing infers them.
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().Any(n => n.EndpointName == "Login"))
            {
                operation.Parameters ??= [];
                foreach (var (name, description) in LoginHintParameters)
                    operation.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Query, Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
            }
            var path = context.Description.RelativePath ?? "";
            if (path.StartsWith("admin/", StringComparison.Ordinal) || path.StartsWith("api/", StringComparison.Ordinal))
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", context.Document)] = [] }];
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            var type = context.JsonTypeInfo.Type;
            // Times are written by the API's own converter (ISO 8601 UTC strings), which hides their type.
            if (type == typeof(DateTimeOffset))
                schema.Type = JsonSchemaType.String;
            else if (type == typeof(DateTimeOffset?))
                schema.Type = JsonSchemaType.String | JsonSchemaType.Null;
            if (RequiredMembers.TryGetValue(type, out var required))
                schema.Required = new HashSet<string>(required);
            if (type == typeof(SessionResponse) && schema.Properties is { } properties)
            {
                Restrict(properties, "status", ["active", "ended"]);
                Restrict(properties, "endReason", [EndReasons.Logout, EndReasons.Expired, EndReasons.Revoked, EndReasons.RefreshFailed, EndReasons.RefreshLost]);
            }
            return Task.CompletedTask;
        });
        return options;
    }

    private static void Restrict(IDictionary<string, IOpenApiSchema> properties, string name, string[] values)
    {
        if (properties.TryGetValue(name, out var property) && property is OpenApiSchema schema)
            schema.Enum = [.. values.Select(v => (System.Text.Json.Nodes.JsonNode)v)];
    }
}

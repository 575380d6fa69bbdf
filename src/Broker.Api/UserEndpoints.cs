using System.Globalization;
using Broker.Grains;
using Broker.Grains.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Broker.Api;

/// <summary>The tenant's users (docs/design.md §6 "Users and identities"): the directory, one user, blocking,
/// deletion and unlinking. Linking starts from a session: <see cref="LinkEndpoints"/>.</summary>
public static class UserEndpoints
{
    private const int MaxSubjectLength = 1024;

    public static IEndpointRouteBuilder MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/tenants/{tenant}/users").WithTags("Users");
        users.MapGet("", ListAsync).WithName("ListUsers");
        users.MapGet("/{user}", GetAsync).WithName("GetUser");
        users.MapPatch("/{user}", PatchAsync).WithName("PatchUser");
        users.MapDelete("/{user}", DeleteAsync).WithName("DeleteUser");
        // The subject is the provider's string: percent-encode it; a catch-all so that one with a '/' still routes.
        users.MapDelete("/{user}/identities/{connection}/{**subject}", UnlinkAsync).WithName("UnlinkIdentity");
        return app;
    }

    public static async Task<Results<Ok<UserPageResponse>, ProblemHttpResult>> ListAsync(string tenant, HttpContext http, IUserDirectory directory)
    {
        var (query, invalid) = Read(http.Request.Query);
        var check = await ApiChecks.RunAsync(http, new Rules
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant))],
            Body = new BodyCheck(invalid, false),
            Tenant = tenant,
        });
        if (check.Refused is { } refused)
            return refused;
        var page = await directory.ListAsync(check.Tenant!, query!);
        NoStore(http);
        return TypedResults.Ok(new UserPageResponse(page.Items.Select(UserSummaryResponse.From).ToList(),
            page.Next is { } next ? PageRequest.Cursor(next.ToString(CultureInfo.InvariantCulture)) : null));
    }

    public static async Task<Results<Ok<UserDetailsResponse>, ProblemHttpResult>> GetAsync(string tenant, string user, HttpContext http, IGrainFactory grains)
    {
        UserDetails? details = null;
        var check = await ApiChecks.RunAsync(http, UserRules(tenant, user, async owner => (details = await grains.User(user).GetAsync(owner)) is not null));
        if (check.Refused is { } refused)
            return refused;
        NoStore(http);
        return TypedResults.Ok(UserDetailsResponse.From(details!));
    }

    /// <summary>Blocks or unblocks: blocking ends every session of the user (revoked upstream) and refuses its logins.</summary>
    public static async Task<Results<Ok<UserDetailsResponse>, ProblemHttpResult>> PatchAsync(string tenant, string user, HttpContext http, IGrainFactory grains)
    {
        var body = await JsonBody.ReadAsync<PatchUserBody>(http.Request, b => b.Blocked is null
            ? new Dictionary<string, string[]> { ["blocked"] = ["is required: true or false."] }
            : new Dictionary<string, string[]>(), rejectNulls: true);
        var grain = grains.User(user);
        var check = await ApiChecks.RunAsync(http, UserRules(tenant, user, async owner => await grain.GetAsync(owner) is not null) with { Body = body.Check });
        if (check.Refused is { } refused)
            return refused;
        if (await grain.SetBlockedAsync(check.Tenant!, body.Value!.Blocked!.Value) is not { } details)
            return Problems.NotFound("user");
        NoStore(http);
        return TypedResults.Ok(UserDetailsResponse.From(details));
    }

    /// <summary>Ends every session (revoked upstream), forgets the profile and identities: the user is 404 afterwards.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string tenant, string user, HttpContext http, IGrainFactory grains)
    {
        var grain = grains.User(user);
        var check = await ApiChecks.RunAsync(http, UserRules(tenant, user, async owner => await grain.GetAsync(owner) is not null));
        if (check.Refused is { } refused)
            return refused;
        return await grain.DeleteAsync(check.Tenant!) ? TypedResults.NoContent() : Problems.NotFound("user");
    }

    /// <summary>Unlinks one identity and ends its sessions; its next login makes a new user. 409 <c>last_identity</c> for the only one.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> UnlinkAsync(string tenant, string user, string connection, HttpContext http, IGrainFactory grains)
    {
        var subject = RawSubject(http);
        var grain = grains.User(user);
        var check = await ApiChecks.RunAsync(http, UserRules(tenant, user, async owner => await grain.GetAsync(owner) is not null) with
        {
            Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("user", Ids.IsUser(user)), ("connection", Ids.IsTenantOrConnection(connection)),
                ("subject", subject is { Length: > 0 and <= MaxSubjectLength } && PlainText.IsPlain(subject))],
        });
        if (check.Refused is { } refused)
            return refused;
        return await grain.UnlinkAsync(check.Tenant!, new IdentityRef(connection, subject!)) switch
        {
            UnlinkOutcome.Unlinked => TypedResults.NoContent(),
            UnlinkOutcome.LastIdentity => Problems.Create(StatusCodes.Status409Conflict, "last_identity",
                "This is the user's only identity.", "Delete the user instead, or link another identity first."),
            UnlinkOutcome.IdentityNotFound => Problems.NotFound("identity"),
            _ => Problems.NotFound("user"),
        };
    }

    /// <summary>The subject as the client percent-encoded it, decoded once: routing leaves an encoded '/' encoded,
    /// so the route value alone cannot tell "a%2Fb" from "a/b".</summary>
    private static string? RawSubject(HttpContext http)
    {
        // In-process hosts (TestServer) leave the raw target empty.
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target ? target : http.Request.Path.Value ?? "";
        var path = raw.Split('?', 2)[0];
        var marker = path.IndexOf("/identities/", StringComparison.Ordinal);
        if (marker < 0)
            return null;
        var rest = path[(marker + "/identities/".Length)..];
        var slash = rest.IndexOf('/');
        try
        {
            return slash < 0 ? null : Uri.UnescapeDataString(rest[(slash + 1)..]);
        }
        catch (UriFormatException)
        {
            return null;
        }
    }

    private static (UserQuery? Query, ProblemHttpResult? Invalid) Read(IQueryCollection query)
    {
        string? One(string name) => query[name] is { Count: 1 } value ? value[0] : null;
        if (new[] { "connection", "q" }.FirstOrDefault(n => query[n].Count > 1) is { } repeated)
            return (null, Problems.Invalid(repeated, "is given more than once."));
        var connection = One("connection");
        if (connection is not null && !Ids.IsTenantOrConnection(connection))
            return (null, Problems.Invalid("connection", "must match ^[a-z0-9][a-z0-9-]{1,62}$."));
        var text = One("q");
        if (text is not null && (text.Length is 0 or > 256 || !PlainText.IsPlain(text)))
            return (null, Problems.Invalid("q", "must be 1 to 256 characters of plain text."));
        var page = PageRequest.Read(query, maxLimit: 200, defaultLimit: 50, isKey: k => long.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0);
        if (page.Invalid is { } invalid)
            return (null, invalid);
        return (new UserQuery(connection, text, page.Limit, page.After is { } after ? long.Parse(after, CultureInfo.InvariantCulture) : null), null);
    }

    private static Rules UserRules(string tenant, string user, Func<Grains.Tenants.TenantRef, Task<bool>> exists) => new()
    {
        Ids = [("tenant", Ids.IsTenantOrConnection(tenant)), ("user", Ids.IsUser(user))],
        Tenant = tenant,
        Resource = new Lookup("user", exists),
    };

    // Profiles are personal data; no cache may keep them.
    private static void NoStore(HttpContext http) => http.Response.Headers.CacheControl = "no-store";
}

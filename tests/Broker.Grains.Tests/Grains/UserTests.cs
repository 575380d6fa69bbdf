using Broker.Grains.Events;
using Broker.Grains.Logins;
using Broker.Grains.Sessions;
using Broker.Grains.Tenants;
using Broker.Grains.Users;
using Broker.Testing.Runtime;
using Broker.Testing.Upstreams;

namespace Broker.Grains.Tests.Grains;

/// <summary>Users and identities (docs/design.md §6): opaque ids, blocking, deletion, linking and unlinking.</summary>
public sealed class UserTests
{
    private static readonly FakeUser Ada = new("ada-sub", "Ada", "ada@example.com");
    private static readonly FakeUser Bob = new("bob-sub", "Bob", "bob@example.com");
    private static readonly FakeUser Cy = new("cy-sub", "Cy", "cy@example.com");

    [Fact]
    public async Task A_first_login_makes_a_user_with_an_opaque_id_that_later_logins_of_the_account_find()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var ada = await SignInAsync(kit, Ada);
        var adaAgain = await SignInAsync(kit, Ada);
        var bob = await SignInAsync(kit, Bob);

        Assert.True(UserIds.IsWellFormed(ada.UserId));
        Assert.Equal(ada.UserId, adaAgain.UserId);
        Assert.NotEqual(ada.UserId, bob.UserId);
        var details = (await kit.Grains.User(ada.UserId).GetAsync(kit.Tenant))!;
        Assert.Equal(("Ada", "ada@example.com", false, 2), (details.Summary.Name, details.Summary.Email, details.Summary.Blocked, details.ActiveSessions));
        var identity = Assert.Single(details.Identities);
        Assert.Equal((BrokerGrainsKit.Connection, "ada-sub", "Ada"), (identity.Connection, identity.Subject, identity.Profile.Name));
        Assert.Null(await kit.Grains.User(ada.UserId).GetAsync(new TenantRef("another-tenant", "")));

        var listed = await kit.SiloService<IUserDirectory>().ListAsync(kit.Tenant, new UserQuery(null, null, 10, null));
        Assert.Equal([ada.UserId, bob.UserId], listed.Items.Select(u => u.Id));
    }

    [Fact]
    public async Task Two_first_logins_of_one_identity_at_once_on_two_silos_are_one_user()
    {
        await using var kit = await BrokerGrainsKit.StartAsync(silos: 2);
        for (var round = 0; round < 10; round++)
        {
            kit.Provider.User = Ada with { Subject = $"ada-{round}" };
            var (first, firstCallback) = await kit.AuthorizeAsync();
            var (second, secondCallback) = await kit.AuthorizeAsync();

            var outcomes = await Task.WhenAll(
                kit.GrainsOn(0).PendingLogin(first).CompleteAsync(kit.Tenant, firstCallback),
                kit.GrainsOn(1).PendingLogin(second).CompleteAsync(kit.Tenant, secondCallback));

            var views = new List<SessionView>();
            foreach (var outcome in outcomes)
                views.Add((await kit.RedeemAsync(Assert.IsType<CompleteLoginResult.Success>(outcome).HandoffCode))!);
            Assert.Equal(views[0].User.Id, views[1].User.Id);
            var sessions = await kit.Grains.User(views[0].User.Id).ListSessionsAsync(kit.Tenant);
            Assert.Equal(views.Select(v => v.SessionId).Order(), sessions!.Select(s => s.SessionId).Order());
        }
        Assert.Equal(10, (await kit.SiloService<IUserDirectory>().ListAsync(kit.Tenant, new UserQuery(null, null, 100, null))).Items.Count);
    }

    [Fact]
    public async Task Blocking_ends_every_session_revoked_upstream_and_refuses_logins_until_unblocked()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var first = await SignInAsync(kit, Ada);
        var second = await SignInAsync(kit, Ada);
        var user = kit.Grains.User(first.UserId);
        var revocationsBefore = kit.Provider.RequestsTo("/revoke").Count;

        var blocked = await user.SetBlockedAsync(kit.Tenant, true);

        Assert.Equal((true, 0), (blocked!.Summary.Blocked, blocked.ActiveSessions));
        foreach (var session in new[] { first.SessionId, second.SessionId })
        {
            var view = await kit.Session(session).GetAsync(kit.Tenant);
            Assert.Equal(("ended", EndReasons.Revoked), (view!.Status, view.EndReason));
        }
        Assert.True(kit.Provider.RequestsTo("/revoke").Count >= revocationsBefore + 2);

        kit.Provider.User = Ada;
        var (state, callback) = await kit.AuthorizeAsync();
        var refused = Assert.IsType<CompleteLoginResult.AppError>(await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback));
        Assert.Equal(("access_denied", "user blocked"), (refused.Error, refused.Description));
        Assert.Equal(0, (await user.GetAsync(kit.Tenant))!.ActiveSessions);
        Assert.Equal(2, (await user.ListSessionsAsync(kit.Tenant))!.Count); // no session was made for the refused login

        await user.SetBlockedAsync(kit.Tenant, false);
        var after = await SignInAsync(kit, Ada);
        Assert.Equal(first.UserId, after.UserId);
        var events = await kit.SiloService<ITenantEventLog>().ListAsync(kit.Tenant, new EventQuery(null, null, first.UserId, null, 100));
        Assert.Contains(events, e => e.Type == EventTypes.UserBlocked);
        Assert.Contains(events, e => e.Type == EventTypes.UserUnblocked);
    }

    [Fact]
    public async Task A_deleted_user_is_gone_and_its_identity_signs_in_again_as_a_new_user()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var before = await SignInAsync(kit, Ada);
        var user = kit.Grains.User(before.UserId);

        Assert.True(await user.DeleteAsync(kit.Tenant));

        Assert.Null(await user.GetAsync(kit.Tenant));
        Assert.False(await user.DeleteAsync(kit.Tenant));
        var view = await kit.Session(before.SessionId).GetAsync(kit.Tenant);
        Assert.Equal(("ended", EndReasons.Revoked), (view!.Status, view.EndReason));
        Assert.Empty((await kit.SiloService<IUserDirectory>().ListAsync(kit.Tenant, new UserQuery(null, null, 10, null))).Items);

        var after = await SignInAsync(kit, Ada);
        Assert.NotEqual(before.UserId, after.UserId);
    }

    [Fact]
    public async Task A_link_login_adds_the_identity_to_the_sessions_user_and_later_logins_through_it_are_that_user()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var ada = await SignInAsync(kit, Ada);
        kit.Clock.Advance(TimeSpan.FromSeconds(1));

        var linked = await SignInAsync(kit, Bob, linkTo: ada.UserId);
        var bobAlone = await SignInAsync(kit, Bob);

        Assert.Equal(ada.UserId, linked.UserId);
        Assert.Equal(ada.UserId, bobAlone.UserId);
        var details = (await kit.Grains.User(ada.UserId).GetAsync(kit.Tenant))!;
        Assert.Equal(["ada-sub", "bob-sub"], details.Identities.Select(i => i.Subject));
        Assert.Equal("Bob", details.Summary.Name); // the identity that signed in last
        var view = await kit.Session(bobAlone.SessionId).GetAsync(kit.Tenant);
        Assert.Equal(("bob-sub", ada.UserId), (view!.User.Subject, view.User.Id)); // the session's identity, the user's id
        var events = await kit.SiloService<ITenantEventLog>().ListAsync(kit.Tenant, new EventQuery(EventTypes.IdentityLinked, null, null, null, 10));
        Assert.Equal("bob-sub", Assert.Single(events).Detail["subject"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_identity_of_another_user_is_never_moved_by_a_link()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var ada = await SignInAsync(kit, Ada);
        var bob = await SignInAsync(kit, Bob);
        var revocationsBefore = kit.Provider.RequestsTo("/revoke").Count;

        kit.Provider.User = Bob;
        var (state, callback) = await kit.AuthorizeAsync(linkToUserId: ada.UserId);
        var refused = Assert.IsType<CompleteLoginResult.AppError>(await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback));

        Assert.Equal(("access_denied", "identity already linked to another user"), (refused.Error, refused.Description));
        Assert.Single((await kit.Grains.User(ada.UserId).GetAsync(kit.Tenant))!.Identities);
        Assert.Equal(bob.UserId, (await SignInAsync(kit, Bob)).UserId);
        Assert.True(kit.Provider.RequestsTo("/revoke").Count > revocationsBefore); // the refused login's tokens
    }

    [Fact]
    public async Task A_link_completed_after_the_user_was_blocked_is_refused_and_leaves_the_identity_free()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var ada = await SignInAsync(kit, Ada);
        kit.Provider.User = Bob;
        var (state, callback) = await kit.AuthorizeAsync(linkToUserId: ada.UserId);
        await kit.Grains.User(ada.UserId).SetBlockedAsync(kit.Tenant, true);

        var refused = Assert.IsType<CompleteLoginResult.AppError>(await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback));

        Assert.Equal(("access_denied", "user blocked"), (refused.Error, refused.Description));
        Assert.Single((await kit.Grains.User(ada.UserId).GetAsync(kit.Tenant))!.Identities);
        Assert.NotEqual(ada.UserId, (await SignInAsync(kit, Bob)).UserId);
    }

    [Fact]
    public async Task A_link_completed_after_the_user_was_deleted_is_refused_and_never_brings_the_user_back()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var ada = await SignInAsync(kit, Ada);
        kit.Provider.User = Bob;
        var (state, callback) = await kit.AuthorizeAsync(linkToUserId: ada.UserId);
        Assert.True(await kit.Grains.User(ada.UserId).DeleteAsync(kit.Tenant));

        var refused = Assert.IsType<CompleteLoginResult.AppError>(await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback));

        Assert.Equal(("access_denied", "the user to link to no longer exists"), (refused.Error, refused.Description));
        Assert.Null(await kit.Grains.User(ada.UserId).GetAsync(kit.Tenant));
        var bob = await SignInAsync(kit, Bob);
        var adaAgain = await SignInAsync(kit, Ada);
        Assert.Equal(3, new[] { ada.UserId, bob.UserId, adaAgain.UserId }.Distinct().Count());
    }

    [Fact]
    public async Task Two_links_of_one_identity_to_two_users_at_once_through_two_silos_exactly_one_wins()
    {
        await using var kit = await BrokerGrainsKit.StartAsync(silos: 2);
        for (var round = 0; round < 5; round++)
        {
            var ada = await SignInAsync(kit, Ada with { Subject = $"ada-{round}" });
            var bob = await SignInAsync(kit, Bob with { Subject = $"bob-{round}" });
            kit.Provider.User = Cy with { Subject = $"cy-{round}" };
            var (forAda, adaCallback) = await kit.AuthorizeAsync(linkToUserId: ada.UserId);
            var (forBob, bobCallback) = await kit.AuthorizeAsync(linkToUserId: bob.UserId);

            var outcomes = await Task.WhenAll(
                kit.GrainsOn(0).PendingLogin(forAda).CompleteAsync(kit.Tenant, adaCallback),
                kit.GrainsOn(1).PendingLogin(forBob).CompleteAsync(kit.Tenant, bobCallback));

            Assert.Single(outcomes, o => o is CompleteLoginResult.Success);
            Assert.Single(outcomes, o => o is CompleteLoginResult.AppError { Error: "access_denied" });
            var owners = new List<string>();
            foreach (var id in new[] { ada.UserId, bob.UserId })
            {
                if ((await kit.Grains.User(id).GetAsync(kit.Tenant))!.Identities.Any(i => i.Subject == $"cy-{round}"))
                    owners.Add(id);
            }
            Assert.Equal([(await SignInAsync(kit, Cy with { Subject = $"cy-{round}" })).UserId], owners);
        }
    }

    [Fact]
    public async Task Unlinking_ends_that_identitys_sessions_and_its_next_login_is_a_new_user_but_the_last_identity_stays()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var ada = await SignInAsync(kit, Ada);
        var bob = await SignInAsync(kit, Bob, linkTo: ada.UserId);
        var user = kit.Grains.User(ada.UserId);

        Assert.Equal(UnlinkOutcome.IdentityNotFound, await user.UnlinkAsync(kit.Tenant, new IdentityRef(BrokerGrainsKit.Connection, "nobody")));
        Assert.Equal(UnlinkOutcome.Unlinked, await user.UnlinkAsync(kit.Tenant, new IdentityRef(BrokerGrainsKit.Connection, "bob-sub")));

        Assert.Equal(("ended", EndReasons.Revoked), await StatusAsync(kit, bob.SessionId));
        Assert.Equal(("active", null), await StatusAsync(kit, ada.SessionId));
        Assert.Equal(UnlinkOutcome.LastIdentity, await user.UnlinkAsync(kit.Tenant, new IdentityRef(BrokerGrainsKit.Connection, "ada-sub")));
        Assert.NotEqual(ada.UserId, (await SignInAsync(kit, Bob)).UserId);
        Assert.Equal(ada.UserId, (await SignInAsync(kit, Ada)).UserId);
    }

    [Fact]
    public async Task A_deleted_tenants_users_leave_the_directory()
    {
        await using var kit = await BrokerGrainsKit.StartAsync();
        var ada = await SignInAsync(kit, Ada);
        await kit.Grains.Tenant(kit.TenantId).DeleteAsync();

        await kit.AdvanceUntilAsync(TimeSpan.FromSeconds(5),
            async () => (await kit.SiloService<IUserDirectory>().ListAsync(kit.Tenant, new UserQuery(null, null, 10, null))).Items.Count == 0,
            "the deleted tenant's users leave the directory");
        Assert.Null(await kit.Grains.User(ada.UserId).GetAsync(kit.Tenant));
    }

    private static async Task<(string SessionId, string UserId)> SignInAsync(BrokerGrainsKit kit, FakeUser as_, string? linkTo = null)
    {
        kit.Provider.User = as_;
        var (state, callback) = await kit.AuthorizeAsync(linkTo);
        var outcome = await kit.Grains.PendingLogin(state).CompleteAsync(kit.Tenant, callback);
        var success = Assert.IsType<CompleteLoginResult.Success>(outcome);
        var view = (await kit.RedeemAsync(success.HandoffCode))!;
        return (view.SessionId, view.User.Id);
    }

    private static async Task<(string, string?)> StatusAsync(BrokerGrainsKit kit, string sessionId)
    {
        var view = (await kit.Session(sessionId).GetAsync(kit.Tenant))!;
        return (view.Status, view.EndReason);
    }
}

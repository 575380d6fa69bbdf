namespace Broker.Grains.Tenants;

/// <summary>
/// One life of a tenant: its id and the incarnation the tenant grain drew when it was created. A
/// tenant deleted and created again under the same id has a new incarnation, so everything the
/// old one left (sessions, users, pending logins, hand-off codes) compares unequal and stays
/// invisible to the new one (docs/design.md §5).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TenantRef(string Id, string Incarnation);

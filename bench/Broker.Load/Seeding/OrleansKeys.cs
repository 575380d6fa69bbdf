using System.Text;
using Orleans;
using Orleans.Runtime;

namespace Broker.Load.Seeding;

/// <summary>
/// How Orleans 10.4.2's ADO.NET providers key a session grain's rows, computed with Orleans' own types:
/// grain id <c>session/s:{id}</c> (GrainKeys.Session, <c>[GrainType("session")]</c>). The seeder checks
/// every one of these against the rows the silo wrote for a real login before it writes any.
/// </summary>
public static class OrleansKeys
{
    public const string GrainType = "session";

    public static string Key(string sessionId) => "s:" + sessionId;

    /// <summary>orleansstorage.grainidhash: AdoGrainKey.GetHashBytes (a string key's UTF-8 bytes, reversed on
    /// little-endian machines) through OrleansDefaultHasher (StableHash), as a signed int.</summary>
    public static int StorageIdHash(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        if (BitConverter.IsLittleEndian)
            Array.Reverse(bytes);
        return unchecked((int)StableHash.ComputeHash(bytes));
    }

    /// <summary>orleansstorage.graintypehash: the state name's UTF-8 bytes through the same hasher.</summary>
    public static int StorageTypeHash(string stateName) => unchecked((int)StableHash.ComputeHash(Encoding.UTF8.GetBytes(stateName)));

    /// <summary>orleansreminderstable.grainid and .grainhash: GrainId.ToString() and GetUniformHashCode() as a signed int
    /// (DbStoredQueries.AddGrainHash).</summary>
    public static (string GrainId, int Hash) Reminder(string key)
    {
        var grain = GrainId.Create(GrainType, key);
        return (grain.ToString(), unchecked((int)grain.GetUniformHashCode()));
    }
}

// Makes one ASP.NET Core Data Protection key for the silos' shared key ring (the Secret
// broker-dataprotection-keys, mounted read-only at Broker__DataProtection__KeysDirectory).
//
//   dotnet run deploy/k8s/tools/new-dataprotection-key.cs -- OUT_DIR [ACTIVATE_IN_HOURS] [LIFETIME_DAYS]
//
// Writes OUT_DIR/key-<id>.xml and prints its path. ACTIVATE_IN_HOURS (default 0) delays the
// moment silos start encrypting with the new key: for a rotation give 48, so that every silo
// has read the new file before any silo uses it. LIFETIME_DAYS (default 365) is how long the
// key stays the one new data is encrypted with; an expired key still decrypts what it
// protected, so keep every old file in the Secret. The file holds the key unencrypted: treat
// it as a secret and delete OUT_DIR once it is in the cluster. docs/operations.md "Rotate keys".
#:sdk Microsoft.NET.Sdk.Web
#:property PublishAot=false

using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;

#pragma warning disable ASP0000 // a one-shot tool: its own service provider is the point

if (args.Length is < 1 or > 3)
{
    Console.Error.WriteLine("usage: new-dataprotection-key.cs OUT_DIR [ACTIVATE_IN_HOURS=0] [LIFETIME_DAYS=365]");
    return 2;
}
var directory = Directory.CreateDirectory(args[0]);
var activateInHours = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
var lifetimeDays = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 365;
if (activateInHours < 0 || lifetimeDays <= 0)
{
    Console.Error.WriteLine("ACTIVATE_IN_HOURS must be >= 0 and LIFETIME_DAYS > 0");
    return 2;
}

var before = directory.GetFiles("key-*.xml").Select(f => f.Name).ToHashSet();
var services = new ServiceCollection();
// The application name must match the silo's (SiloHost.AddDataProtection).
services.AddDataProtection().SetApplicationName("Broker").PersistKeysToFileSystem(directory);
using (var provider = services.BuildServiceProvider())
{
    var activation = DateTimeOffset.UtcNow.AddHours(activateInHours);
    provider.GetRequiredService<IKeyManager>().CreateNewKey(activation, activation.AddDays(lifetimeDays));
}
foreach (var file in directory.GetFiles("key-*.xml").Where(f => !before.Contains(f.Name)))
    Console.WriteLine(file.FullName);
return 0;

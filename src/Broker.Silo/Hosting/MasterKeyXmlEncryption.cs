using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Broker.Silo.Hosting;

/// <summary>
/// The master keys from configuration (<c>Broker:DataProtection:MasterKey</c>, and
/// <c>PreviousMasterKeys</c> while rotating): 32 random bytes each, base64. They wrap the Data
/// Protection keys stored in the database (envelope encryption).
/// </summary>
public sealed class MasterKeys
{
    public MasterKeys(byte[] current, IEnumerable<byte[]> previous)
    {
        Current = current;
        All = [current, .. previous];
    }

    public byte[] Current { get; }

    public IReadOnlyList<byte[]> All { get; }

    /// <summary>A short public name for a master key, so a stored key says which master key wrapped it.</summary>
    public static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key))[..16];
}

/// <summary>Wraps each Data Protection key with AES-256-GCM under the current master key.</summary>
public sealed class MasterKeyXmlEncryptor(MasterKeys keys) : IXmlEncryptor
{
    internal static readonly XName Element = "brokerEncryptedKey";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = System.Text.Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(keys.Current, tag.Length))
            aes.Encrypt(nonce, plaintext, ciphertext, tag);
        var element = new XElement(Element,
            new XAttribute("masterKey", MasterKeys.IdOf(keys.Current)),
            Convert.ToBase64String([.. nonce, .. tag, .. ciphertext]));
        return new EncryptedXmlInfo(element, typeof(MasterKeyXmlDecryptor));
    }
}

/// <summary>Unwraps keys stored by <see cref="MasterKeyXmlEncryptor"/> with whichever configured master key wrapped them.</summary>
public sealed class MasterKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var keys = services.GetRequiredService<MasterKeys>();
        var id = (string?)encryptedElement.Attribute("masterKey");
        var key = keys.All.FirstOrDefault(k => MasterKeys.IdOf(k) == id)
            ?? throw new CryptographicException($"The data protection key ring was wrapped with master key {id}, which is not configured (Broker:DataProtection:MasterKey or PreviousMasterKeys).");
        var blob = Convert.FromBase64String(encryptedElement.Value);
        var nonceSize = AesGcm.NonceByteSizes.MaxSize;
        var tagSize = AesGcm.TagByteSizes.MaxSize;
        var plaintext = new byte[blob.Length - nonceSize - tagSize];
        using (var aes = new AesGcm(key, tagSize))
            aes.Decrypt(blob.AsSpan(0, nonceSize), blob.AsSpan(nonceSize + tagSize), blob.AsSpan(nonceSize, tagSize), plaintext);
        return XElement.Parse(System.Text.Encoding.UTF8.GetString(plaintext));
    }
}

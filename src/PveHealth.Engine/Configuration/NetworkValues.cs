using System.Globalization;
using System.Net;

namespace PveHealth.Configuration;

/// <summary>Network values the configuration holds and the clients use: addresses with a prefix, certificate fingerprints.</summary>
public static class NetworkValues
{
    /// <summary>"10.0.0.5", "10.0.0.0/16", "fe80::1/64": the address and the prefix length when one is given.</summary>
    public static bool TryParseCidr(string text, out IPAddress address, out int? prefix)
    {
        prefix = null;
        var t = text.Trim();
        var slash = t.IndexOf('/');
        if (slash >= 0)
        {
            if (int.TryParse(t[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p)) prefix = p;
            t = t[..slash];
        }
        if (IPAddress.TryParse(t, out var ip)) { address = ip; return true; }
        address = IPAddress.None;
        return false;
    }

    /// <summary>A SHA-256 certificate fingerprint (64 hex digits, colons/spaces/dashes and a sha256: prefix allowed), or null.</summary>
    public static byte[]? ParseFingerprint(string text)
    {
        var t = text.Trim();
        if (t.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) || t.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase)) t = t[7..];
        var hex = new string(t.Where(c => c is not (':' or ' ' or '-')).ToArray());
        if (hex.Length != 64) return null;
        try { return Convert.FromHexString(hex); } catch (FormatException) { return null; }
    }
}

using System.Security.Cryptography;
using System.Text;

namespace PveHealth.Clients.Ssh;

/// <summary>Outcome of checking a host key against known_hosts or a pinned fingerprint.</summary>
public enum HostKeyVerdict
{
    /// <summary>A matching entry exists.</summary>
    Trusted,
    /// <summary>No entry names this host: never trusted silently.</summary>
    Unknown,
    /// <summary>Entries name this host but with other keys: the key changed (a security finding).</summary>
    Changed,
    /// <summary>The key is marked @revoked.</summary>
    Revoked,
}

/// <summary>
/// An OpenSSH known_hosts file: plain and hashed (|1|salt|hash) host patterns, [host]:port entries,
/// comma lists, * and ? wildcards, ! negation, @revoked; @cert-authority lines are ignored (no CA trust).
/// Parsed once and shared by every check of an environment.
/// </summary>
public sealed class KnownHosts
{
    private readonly List<Entry> _entries = new();

    private sealed record Entry(string[] Patterns, string KeyType, byte[] Key, bool Revoked, int Line);

    public string Path { get; }

    /// <summary>Lines that could not be parsed ("line N: reason"); they are ignored.</summary>
    public IReadOnlyList<string> Problems { get; }

    private KnownHosts(string path, List<string> problems)
    {
        Path = path;
        Problems = problems;
    }

    public static KnownHosts Load(string path) => Parse(BoundedInput.ReadFileText(path, BoundedInput.ExclusionFileBytes * 4, $"known_hosts {path}"), path);

    public static KnownHosts Parse(string text, string path)
    {
        var problems = new List<string>();
        var kh = new KnownHosts(path, problems);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var revoked = false;
            var at = 0;
            if (fields[0].StartsWith('@'))
            {
                if (fields[0] == "@cert-authority") continue;
                if (fields[0] != "@revoked") { problems.Add($"line {i + 1}: unknown marker {(fields[0].Length > 40 ? fields[0][..40] + "..." : fields[0])}"); continue; }
                revoked = true;
                at = 1;
            }
            if (fields.Length < at + 3) { problems.Add($"line {i + 1}: expected 'hosts keytype key'"); continue; }
            byte[] key;
            try { key = Convert.FromBase64String(fields[at + 2]); }
            catch (FormatException) { problems.Add($"line {i + 1}: the key is not base64"); continue; }
            kh._entries.Add(new Entry(fields[at].Split(','), fields[at + 1], key, revoked, i + 1));
        }
        return kh;
    }

    /// <summary>Checks the key a server presented for <paramref name="host"/>:<paramref name="port"/>.</summary>
    public HostKeyVerdict Verify(string host, int port, string keyType, byte[] key)
    {
        var name = port == 22 ? host : $"[{host}]:{port}";
        var anyForHost = false;
        foreach (var e in _entries)
        {
            if (!HostMatches(e.Patterns, name)) continue;
            var same = e.Key.AsSpan().SequenceEqual(key);
            if (e.Revoked)
            {
                if (same) return HostKeyVerdict.Revoked;
                continue;
            }
            anyForHost = true;
            if (same) return HostKeyVerdict.Trusted;
        }
        return anyForHost ? HostKeyVerdict.Changed : HostKeyVerdict.Unknown;
    }

    private static bool HostMatches(string[] patterns, string name)
    {
        var matched = false;
        foreach (var raw in patterns)
        {
            if (raw.StartsWith("|1|", StringComparison.Ordinal))
            {
                if (HashedMatches(raw, name)) matched = true;
                continue;
            }
            var negated = raw.StartsWith('!');
            var pattern = negated ? raw[1..] : raw;
            if (Glob(pattern, name))
            {
                if (negated) return false;
                matched = true;
            }
        }
        return matched;
    }

    /// <summary>OpenSSH host patterns: * and ? only; brackets are literal ([host]:port).</summary>
    private static bool Glob(string pattern, string name)
    {
        if (pattern.IndexOfAny(['*', '?']) < 0) return string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);
        var regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$";
        return System.Text.RegularExpressions.Regex.IsMatch(name, regex, System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);
    }

    private static bool HashedMatches(string entry, string name)
    {
        var parts = entry.Split('|');
        if (parts.Length != 4) return false;
        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var expected = Convert.FromBase64String(parts[3]);
            using var hmac = new HMACSHA1(salt);
            return hmac.ComputeHash(Encoding.ASCII.GetBytes(name)).AsSpan().SequenceEqual(expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>OpenSSH's "SHA256:..." fingerprint of a public key blob.</summary>
    public static string Fingerprint(byte[] key) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(key)).TrimEnd('=');
}

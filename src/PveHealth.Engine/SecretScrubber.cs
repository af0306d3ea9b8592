using System.Text;

namespace PveHealth;

/// <summary>
/// The one scrubber: every credential the module sends is registered here when it is resolved (Proxmox token
/// secret, bearer tokens, Basic passwords and their base64 header form, S3 keys, SSH passphrases), and every text that
/// leaves the engine (result Detail, error message, warning, verbose line) passes through <see cref="Scrub"/>, whatever
/// a server echoed back. Process-wide: a secret registered by one run stays scrubbed for the life of the process.
/// </summary>
public static class SecretScrubber
{
    /// <summary>What replaces a secret.</summary>
    public const string Mask = "***";

    /// <summary>Shorter values are not registered (scrubbing "ab" would mangle every message).</summary>
    public const int MinimumLength = 4;

    private static readonly object Gate = new();
    private static volatile string[] _secrets = [];

    /// <summary>Registers <paramref name="secret"/> (and nothing when it is too short to be told from ordinary text).</summary>
    public static void Register(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < MinimumLength) return;
        lock (Gate)
        {
            if (Array.IndexOf(_secrets, secret) >= 0) return;
            // Longest first: a secret that contains another is replaced whole.
            _secrets = [.. _secrets.Append(secret).OrderByDescending(s => s.Length)];
            Model.CheckResult.Scrubber ??= Scrub;
        }
    }

    /// <summary>Registers the password, the user:password pair and its base64 form (what a Basic header carries).</summary>
    public static void RegisterBasic(string? user, string? password)
    {
        Register(password);
        if (string.IsNullOrEmpty(password)) return;
        var pair = $"{user}:{password}";
        Register(pair);
        Register(Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
    }

    /// <summary><paramref name="text"/> with every registered secret replaced by <see cref="Mask"/>.</summary>
    public static string Scrub(string text)
    {
        if (string.IsNullOrEmpty(text)) return text;
        var secrets = _secrets;
        if (secrets.Length == 0) return text;
        foreach (var secret in secrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal)) text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }
        return text;
    }

    /// <summary>Null-preserving <see cref="Scrub(string)"/>.</summary>
    public static string? ScrubOrNull(string? text) => text is null ? null : Scrub(text);

    /// <summary>Forgets every secret (tests only).</summary>
    internal static void Clear()
    {
        lock (Gate) _secrets = [];
    }

    /// <summary>
    /// True when a secret value holds a line break or another control character: such a value is refused at load
    /// (sent in a header it would inject a header line; it is never a real token).
    /// </summary>
    public static bool HasControlCharacters(string value) => value.Any(c => char.IsControl(c));
}

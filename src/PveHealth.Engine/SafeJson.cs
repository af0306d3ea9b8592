using System.Text.Json;

namespace PveHealth;

/// <summary>
/// JSON that cannot be used safely: invalid, nested deeper than <see cref="SafeJson.MaxDepth"/>, a key twice in one
/// object, or a string that is not valid UTF-16 (a lone surrogate such as <c>"\ud800"</c>). The message names the
/// source and the JSON path and never quotes the content (it may be a secret or a sensitive output).
/// </summary>
public sealed class UnsafeJsonException(string source, string jsonPath, string reason, Exception? inner = null)
    : Exception($"{source}: {jsonPath}: {reason}", inner)
{
    public string InputSource { get; } = source;
    public string JsonPath { get; } = jsonPath;
    public string Reason { get; } = reason;
}

/// <summary>
/// The one way PveHealth parses JSON it does not control (Proxmox answers, terraform output and state, inventory and
/// configuration files, monitoring answers): a depth limit, duplicate keys refused, every string and key checked for
/// valid UTF-16, so no later <c>GetString()</c> can throw a raw <see cref="InvalidOperationException"/> out of a check.
/// </summary>
public static class SafeJson
{
    /// <summary>Deepest nesting accepted (Proxmox and Terraform answers are under 20 deep).</summary>
    public const int MaxDepth = 64;

    /// <summary>Parses and validates; throws <see cref="UnsafeJsonException"/>.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, string source, bool allowComments = false, bool ignoreCaseForDuplicates = false, int maxDepth = MaxDepth)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, Options(allowComments, maxDepth));
        }
        catch (JsonException ex)
        {
            throw new UnsafeJsonException(source, "$", Describe(ex), ex);
        }
        return Validated(doc, source, ignoreCaseForDuplicates);
    }

    /// <summary>Parses text and validates; throws <see cref="UnsafeJsonException"/>.</summary>
    public static JsonDocument Parse(string text, string source, bool allowComments = false, bool ignoreCaseForDuplicates = false, int maxDepth = MaxDepth)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, Options(allowComments, maxDepth));
        }
        catch (JsonException ex)
        {
            throw new UnsafeJsonException(source, "$", Describe(ex), ex);
        }
        return Validated(doc, source, ignoreCaseForDuplicates);
    }

    /// <summary>
    /// Checks an already parsed text (one that another reader, the configuration deserializer, will read):
    /// depth, duplicate keys, UTF-16. Throws <see cref="UnsafeJsonException"/>.
    /// </summary>
    public static void Check(string text, string source, bool allowComments, bool ignoreCaseForDuplicates)
    {
        using var doc = Parse(text, source, allowComments, ignoreCaseForDuplicates);
    }

    private static JsonDocumentOptions Options(bool allowComments, int maxDepth) => new()
    {
        MaxDepth = maxDepth,
        AllowTrailingCommas = allowComments,
        CommentHandling = allowComments ? JsonCommentHandling.Skip : JsonCommentHandling.Disallow,
    };

    private static JsonDocument Validated(JsonDocument doc, string source, bool ignoreCase)
    {
        try
        {
            Walk(doc.RootElement, "$", source, ignoreCase);
            return doc;
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    private static void Walk(JsonElement root, string rootPath, string source, bool ignoreCase)
    {
        // Iterative: the depth is bounded by the parser, but a stack of our own costs nothing.
        var stack = new Stack<(JsonElement Element, string Path)>();
        stack.Push((root, rootPath));
        var comparer = ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        while (stack.Count > 0)
        {
            var (element, path) = stack.Pop();
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    var seen = new HashSet<string>(comparer);
                    var index = 0;
                    foreach (var property in element.EnumerateObject())
                    {
                        string name;
                        try { name = property.Name; }
                        catch (InvalidOperationException ex)
                        {
                            throw new UnsafeJsonException(source, $"{path} (key {index + 1})", "a key is not valid UTF-16 (a lone surrogate escape such as \\ud800)", ex);
                        }
                        var at = PathOf(path, name);
                        if (!seen.Add(name))
                        {
                            throw new UnsafeJsonException(source, at, ignoreCase
                                ? "the key appears twice in this object (keys are compared ignoring case)"
                                : "the key appears twice in this object");
                        }
                        stack.Push((property.Value, at));
                        index++;
                    }
                    break;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in element.EnumerateArray()) stack.Push((item, $"{path}[{i++}]"));
                    break;
                case JsonValueKind.String:
                    try { _ = element.GetString(); }
                    catch (InvalidOperationException ex)
                    {
                        throw new UnsafeJsonException(source, path, "the string is not valid UTF-16 (a lone surrogate escape such as \\ud800)", ex);
                    }
                    break;
            }
        }
    }

    /// <summary>$.a.b, or $['odd key'] for keys that are not plain words (never longer than 64 characters).</summary>
    public static string PathOf(string parent, string key)
    {
        var plain = key.Length is > 0 and <= 64 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
        if (plain) return $"{parent}.{key}";
        var shown = new string(key.Take(64).Select(c => char.IsControl(c) || char.IsSurrogate(c) ? '?' : c).ToArray());
        return $"{parent}['{shown.Replace("'", "\\'", StringComparison.Ordinal)}{(key.Length > 64 ? "..." : string.Empty)}']";
    }

    /// <summary>
    /// A parse error in words, with line and byte, without the quoted token System.Text.Json puts in some messages
    /// ("'s' is an invalid start of a value"): the content may be a secret.
    /// </summary>
    public static string Describe(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        message = System.Text.RegularExpressions.Regex.Replace(message, "'[^']*'", "a character");
        if (message.Contains("maximum configured depth", StringComparison.Ordinal)) message = "nested deeper than the depth limit";
        var where = ex.LineNumber is long line ? $" at line {line + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}" : string.Empty;
        return $"invalid JSON{where}: {message.TrimEnd('.', ' ')}";
    }
}

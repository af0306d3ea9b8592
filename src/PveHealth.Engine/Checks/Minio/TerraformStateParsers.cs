using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PveHealth.Checks.Minio;

/// <summary>A state object that is not a usable Terraform state v4. The message says where it breaks.</summary>
public sealed class StateInvalidException(string message) : Exception(message);

/// <summary>The facts of a valid Terraform state v4.</summary>
public sealed record TerraformStateInfo(int Version, string Lineage, long Serial, string TerraformVersion, int Outputs, int Resources);

/// <summary>Validates Terraform state v4 JSON: version 4, lineage, serial, terraform_version.</summary>
public static class TerraformStateValidator
{
    public static TerraformStateInfo Validate(byte[] data)
    {
        if (data.Length == 0) throw new StateInvalidException("the object is empty (0 bytes)");
        JsonDocument doc;
        try
        {
            doc = SafeJson.Parse(data, "state", maxDepth: 256);
        }
        catch (UnsafeJsonException ex) when (ex.InnerException is JsonException j)
        {
            throw new StateInvalidException(DescribeJsonError(j));
        }
        catch (UnsafeJsonException ex)
        {
            throw new StateInvalidException($"{ex.JsonPath}: {ex.Reason}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new StateInvalidException("$: expected a JSON object (a Terraform state)");
            if (!root.TryGetProperty("version", out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var version))
            {
                throw new StateInvalidException("$.version: missing; not a Terraform state");
            }
            if (version != 4) throw new StateInvalidException($"$.version: {version}; expected a Terraform state of version 4 (Terraform 0.12 or later)");
            var lineage = root.TryGetProperty("lineage", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
            if (string.IsNullOrWhiteSpace(lineage)) throw new StateInvalidException("$.lineage: missing or empty");
            if (!root.TryGetProperty("serial", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var serial) || serial < 0)
            {
                throw new StateInvalidException("$.serial: missing or not a whole number");
            }
            var tfVersion = root.TryGetProperty("terraform_version", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (string.IsNullOrWhiteSpace(tfVersion)) throw new StateInvalidException("$.terraform_version: missing or empty");
            var outputs = root.TryGetProperty("outputs", out var o) && o.ValueKind == JsonValueKind.Object ? o.EnumerateObject().Count() : 0;
            var resources = root.TryGetProperty("resources", out var r) && r.ValueKind == JsonValueKind.Array ? r.GetArrayLength() : 0;
            return new TerraformStateInfo(version, lineage!, serial, tfVersion!, outputs, resources);
        }
    }

    /// <summary>"invalid JSON at line 9, byte 21: the text ends inside an object or array (truncated?)".</summary>
    internal static string DescribeJsonError(JsonException ex)
    {
        var line = (ex.LineNumber ?? 0) + 1;
        var b = (ex.BytePositionInLine ?? 0) + 1;
        var reason = SafeJson.Describe(ex);
        reason = reason[(reason.IndexOf(": ", StringComparison.Ordinal) + 2)..];
        if (reason.StartsWith("Expected depth to be zero", StringComparison.Ordinal))
        {
            reason = "the text ends inside an object or array (truncated upload?)";
        }
        return $"invalid JSON at line {line}, byte {b}: {reason}";
    }
}

/// <summary>Terraform's lock info, as the S3 backend writes it to <c>&lt;key&gt;.tflock</c>.</summary>
public sealed record TerraformLock(string? Id, string? Operation, string? Who, string? Version, DateTimeOffset? Created, string? Path)
{
    /// <summary>Parses the lock JSON; throws <see cref="StateInvalidException"/> when it is not a JSON object.</summary>
    public static TerraformLock Parse(byte[] data)
    {
        JsonDocument doc;
        try
        {
            doc = SafeJson.Parse(data, "lock");
        }
        catch (UnsafeJsonException ex) when (ex.InnerException is JsonException j)
        {
            throw new StateInvalidException(TerraformStateValidator.DescribeJsonError(j));
        }
        catch (UnsafeJsonException ex)
        {
            throw new StateInvalidException($"{ex.JsonPath}: {ex.Reason}");
        }
        using (doc)
        {
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new StateInvalidException("$: expected a JSON object (Terraform lock info)");
            return new TerraformLock(Str(r, "ID"), Str(r, "Operation"), Str(r, "Who"), Str(r, "Version"), ParseTime(Str(r, "Created")), Str(r, "Path"));
        }
    }

    private static string? Str(JsonElement e, string name)
    {
        foreach (var p in e.EnumerateObject())
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.String) return p.Value.GetString();
        }
        return null;
    }

    private static readonly Regex Fraction = new(@"\.(\d{7})\d+", RegexOptions.CultureInvariant);

    /// <summary>Go's RFC 3339 with nanoseconds ("2024-05-01T10:00:00.123456789Z"): .NET takes at most 7 fraction digits.</summary>
    internal static DateTimeOffset? ParseTime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var trimmed = Fraction.Replace(text.Trim(), ".$1");
        return DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
    }
}

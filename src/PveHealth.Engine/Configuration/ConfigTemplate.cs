using System.Text;
using System.Text.Json;
using PveHealth.Model;

namespace PveHealth.Configuration;

/// <summary>What New-PveHealthConfig was asked for.</summary>
public sealed record ConfigTemplateRequest
{
    public string Environment { get; init; } = "prod";
    public string? ProxmoxUrl { get; init; }
    public string? TokenId { get; init; }
    /// <summary>A file of `terraform output -json` the inventory reads (absolute path), and the guests found in it.</summary>
    public string? TerraformOutputPath { get; init; }
    public IReadOnlyList<Guest> SeededGuests { get; init; } = [];
    /// <summary>Folder the referenced secret, key and known_hosts files are expected in.</summary>
    public string SecretFolder { get; init; } = "/etc/pve-health";
}

/// <summary>
/// A commented starting configuration (JSON with comments, as ConfigLoader reads it). Secrets are references to files
/// that the comments say how to create; nothing secret is ever written. The text always loads (the caller checks).
/// </summary>
public static class ConfigTemplate
{
    public static string Create(ConfigTemplateRequest r)
    {
        string J(string value) => JsonSerializer.Serialize(value);
        var env = r.Environment;
        var secrets = r.SecretFolder.TrimEnd('/');
        var sb = new StringBuilder();
        sb.AppendLine("// PveHealth configuration written by New-PveHealthConfig. Comments and trailing commas are allowed.");
        sb.AppendLine("// Check it before the timer runs it:   Test-PveHealthConfig -ConfigPath <this file>");
        sb.AppendLine("// Secrets are never written here: each is a reference, { \"file\": \"/path\" } or { \"env\": \"VARIABLE\" }.");
        sb.AppendLine("// The full reference: docs/HEALTH-CHECKS.md and examples/config.json.");
        sb.AppendLine("{");
        sb.AppendLine("  \"defaults\": {");
        sb.AppendLine("    \"timeoutSec\": 10,       // one check (-TimeoutSec overrides)");
        sb.AppendLine("    \"runTimeoutSec\": 300,   // the whole run");
        sb.AppendLine("    \"throttleLimit\": 64     // checks at once (-ThrottleLimit overrides)");
        sb.AppendLine("    // \"exclusionPath\": \"/etc/pve-health/exclusions.conf\"  // patterns to skip, one per line (examples/exclusions.conf)");
        sb.AppendLine("  },");
        sb.AppendLine("  \"environments\": {");
        sb.AppendLine($"    {J(env)}: {{");
        if (r.TerraformOutputPath is { } tf)
        {
            sb.AppendLine($"      // Seeded from {Comment(tf)}: {r.SeededGuests.Count} {(r.SeededGuests.Count == 1 ? "guest" : "guests")}"
                + (r.SeededGuests.Count == 0 ? "." : $" ({Comment(string.Join(", ", r.SeededGuests.Take(8).Select(g => g.Name)))}{(r.SeededGuests.Count > 8 ? ", ..." : string.Empty)})."));
            sb.AppendLine("      // Refresh the file after each apply:  terraform output -json > " + Comment(tf));
            sb.AppendLine("      \"inventory\": { \"source\": \"terraform-output\", \"path\": " + J(tf) + " },");
        }
        else
        {
            sb.AppendLine("      // Where the guests come from: the Proxmox API (below), or terraform-output / terraform / file");
            sb.AppendLine("      // (New-PveHealthConfig -TerraformOutputPath seeds a terraform-output inventory).");
            sb.AppendLine("      \"inventory\": { \"source\": \"proxmox\", \"addressFamily\": \"ipv4\" },");
        }
        sb.AppendLine("      // A read-only API token (PVEAuditor role): pveum user token add monitor@pve health --privsep 0");
        sb.AppendLine($"      // Put its secret, alone on one line, in {secrets}/{env}-pve-token (chmod 600).");
        sb.AppendLine("      \"proxmox\": {");
        sb.AppendLine($"        \"url\": {J(r.ProxmoxUrl ?? "https://pve1.example.net:8006")},");
        sb.AppendLine($"        \"tokenId\": {J(r.TokenId ?? "monitor@pve!health")},");
        sb.AppendLine($"        \"tokenSecret\": {{ \"file\": {J($"{secrets}/{env}-pve-token")} }},");
        sb.AppendLine("        // Pin the certificate (pvenode cert info) or name the CA that signed it:");
        sb.AppendLine("        // \"fingerprint\": \"AB:CD:...\",  \"caFile\": \"/etc/pve-health/pve-ca.pem\",");
        sb.AppendLine("        \"timeoutSec\": 10");
        sb.AppendLine("      },");
        sb.AppendLine("      // SSH for the Ssh and Docker checks: a key without a shell need beyond `systemctl is-active docker`.");
        sb.AppendLine($"      // ssh-keygen -t ed25519 -f {secrets}/id_ed25519 -N ''   and collect the host keys into {secrets}/known_hosts.");
        sb.AppendLine("      \"ssh\": {");
        sb.AppendLine("        \"user\": \"health\",");
        sb.AppendLine("        \"port\": 22,");
        sb.AppendLine($"        \"keyFile\": {J($"{secrets}/id_ed25519")},");
        sb.AppendLine($"        \"knownHostsFile\": {J($"{secrets}/known_hosts")}");
        sb.AppendLine("      },");
        sb.AppendLine("      \"checks\": [\"Ping\", \"Ssh\", \"Docker\", \"ApiStatus\", \"GuestAgent\"]");
        sb.AppendLine("      // \"monitoring\": { \"prometheus\": { \"url\": \"http://prometheus:9090\" } },");
        sb.AppendLine("      // \"minio\": { \"endpoint\": \"https://minio:9000\", \"accessKey\": { \"file\": \"...\" }, \"secretKey\": { \"file\": \"...\" } }");
        sb.AppendLine("    }");
        sb.AppendLine("  }");
        sb.AppendLine("}");
        return sb.ToString();
    }

    /// <summary>Text safe inside a // comment: one line.</summary>
    private static string Comment(string text) => new(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
}

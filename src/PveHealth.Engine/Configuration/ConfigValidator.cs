namespace PveHealth.Configuration;

/// <summary>
/// Checks what JSON types cannot: allowed values, absolute URLs, required companions. Check names are the
/// catalog's and are validated by <c>Checks.CheckCatalog.Validate</c> (this layer does not know the checks).
/// </summary>
internal static class ConfigValidator
{
    public static readonly string[] InventorySources = ["terraform-output", "terraform", "terraform-state", "file", "proxmox", "minio-state"];

    public static void Validate(PveHealthConfig config, string path)
    {
        var d = config.Defaults ?? new DefaultsConfig();
        config.Defaults = d;
        Positive(path, "$.defaults.timeoutSec", d.TimeoutSec);
        Positive(path, "$.defaults.runTimeoutSec", d.RunTimeoutSec);
        if (d.ThrottleLimit is < 1 or > 1024) throw new ConfigException(path, "$.defaults.throttleLimit", "expected a whole number of at least 1 and at most 1024.");
        Ping(path, "$.defaults.ping", d.Ping, null);
        if (config.Environments.Count == 0)
        {
            throw new ConfigException(path, "$.environments", "expected at least one environment, for example \"environments\": { \"prod\": { ... } }.");
        }
        foreach (var (name, env) in config.Environments)
        {
            var at = $"$.environments.{name}";
            if (env is null) throw new ConfigException(path, at, "expected an object, found null.");
            if (env.TimeoutSec is double t) Positive(path, at + ".timeoutSec", t);
            Ping(path, at + ".ping", env.Ping, d.Ping);
            RecoveryConfigValidator.Validate(path, at, env);
            if (env.Inventory is { } inv)
            {
                if (string.IsNullOrWhiteSpace(inv.Source) || !InventorySources.Contains(inv.Source, StringComparer.OrdinalIgnoreCase))
                {
                    throw new ConfigException(path, at + ".inventory.source", $"expected one of {string.Join(", ", InventorySources)}; found '{inv.Source}'.");
                }
                var source = inv.Source.ToLowerInvariant();
                if (source is "terraform-output" or "terraform-state" or "file" && string.IsNullOrWhiteSpace(inv.Path))
                {
                    throw new ConfigException(path, at + ".inventory.path", $"the {source} source needs a \"path\" to the file.");
                }
                if (source == "terraform" && string.IsNullOrWhiteSpace(inv.Directory))
                {
                    throw new ConfigException(path, at + ".inventory.directory", "the terraform source needs the \"directory\" of the Terraform configuration.");
                }
                if (source == "proxmox" && env.Proxmox is null)
                {
                    throw new ConfigException(path, at + ".proxmox", "the proxmox inventory source needs a \"proxmox\" section with url and token.");
                }
                if (source == "minio-state" && (env.Minio is null || string.IsNullOrWhiteSpace(inv.StateObject) || inv.StateObject.IndexOf('/') <= 0 || inv.StateObject.EndsWith('/')))
                {
                    throw new ConfigException(path, at + ".inventory.stateObject", "the minio-state source needs \"stateObject\": \"bucket/key\" and a \"minio\" section.");
                }
                if (inv.DefaultKind is { } kind && !Enum.TryParse<Model.GuestKind>(kind, true, out _))
                {
                    throw new ConfigException(path, at + ".inventory.defaultKind", $"expected Vm or Lxc; found '{kind}'.");
                }
                if (inv.TimeoutSec is double it) Positive(path, at + ".inventory.timeoutSec", it);
                if (inv.AddressFamily is { } family && family.ToLowerInvariant() is not ("ipv4" or "ipv6" or "any"))
                {
                    throw new ConfigException(path, at + ".inventory.addressFamily", $"expected ipv4, ipv6 or any; found '{family}'.");
                }
                if (inv.AddressCidr is { } cidr && (!NetworkValues.TryParseCidr(cidr, out _, out var bits) || bits is null))
                {
                    throw new ConfigException(path, at + ".inventory.addressCidr", $"expected a network such as \"10.20.0.0/16\"; found '{cidr}'.");
                }
                if (inv.Concurrency is int c && c is < 1 or > 64) throw new ConfigException(path, at + ".inventory.concurrency", "expected a whole number from 1 to 64.");
            }
            if (env.Proxmox is { } pve)
            {
                Url(path, at + ".proxmox.url", pve.Url, required: true);
                if (string.IsNullOrWhiteSpace(pve.TokenId) || !pve.TokenId.Contains('!') || !pve.TokenId.Contains('@'))
                {
                    throw new ConfigException(path, at + ".proxmox.tokenId", $"expected an API token id USER@REALM!TOKENID, for example \"monitor@pve!health\".");
                }
                Secret(path, at + ".proxmox.tokenSecret", pve.TokenSecret, required: true);
                if (pve.TimeoutSec is double pt) Positive(path, at + ".proxmox.timeoutSec", pt);
                if (pve.MaxAnswerMiB is int mib && mib is < 1 or > ProxmoxConfig.MaxAnswerMiBLimit)
                {
                    throw new ConfigException(path, at + ".proxmox.maxAnswerMiB", $"expected a whole number of MiB from 1 to {ProxmoxConfig.MaxAnswerMiBLimit}; found {mib}.");
                }
                if (pve.Fingerprint is { Length: > 0 } fp && NetworkValues.ParseFingerprint(fp) is null)
                {
                    throw new ConfigException(path, at + ".proxmox.fingerprint", "expected the SHA-256 of the server certificate: 64 hex digits, colons optional (pvenode cert info).");
                }
            }
            NodeHealthConfig.Validate(path, at + ".nodeHealth", env.NodeHealth);
            if (env.Ssh is { } ssh)
            {
                if (ssh.Port is < 1 or > 65535) throw new ConfigException(path, at + ".ssh.port", "expected a port between 1 and 65535.");
                Secret(path, at + ".ssh.passphrase", ssh.Passphrase, required: false);
            }
            if (env.Monitoring is { } mon)
            {
                Endpoint(path, at + ".monitoring.prometheus", mon.Prometheus);
                Endpoint(path, at + ".monitoring.grafana", mon.Grafana);
                Endpoint(path, at + ".monitoring.alertmanager", mon.Alertmanager);
            }
            if (env.Minio is { } minio)
            {
                Url(path, at + ".minio.endpoint", minio.Endpoint, required: true);
                Secret(path, at + ".minio.accessKey", minio.AccessKey, required: true);
                Secret(path, at + ".minio.secretKey", minio.SecretKey, required: true);
                if (minio.StateObjects is { } objects)
                {
                    for (var i = 0; i < objects.Count; i++)
                    {
                        if (string.IsNullOrWhiteSpace(objects[i]) || objects[i].IndexOf('/') <= 0 || objects[i].EndsWith('/'))
                        {
                            throw new ConfigException(path, $"{at}.minio.stateObjects[{i}]", $"expected \"bucket/key\", for example \"tfstate/prod/terraform.tfstate\"; found '{objects[i]}'.");
                        }
                    }
                }
                if (minio.MaxStateAgeHours is double h) Range(path, at + ".minio.maxStateAgeHours", h, 87_600, "hours");
                if (minio.MaxLockAgeMinutes is double m) Range(path, at + ".minio.maxLockAgeMinutes", m, 5_256_000, "minutes");
            }
            DriftConfigValidator.Validate(path, at, env);
        }
    }

    private static void Ping(string path, string at, PingConfig? ping, PingConfig? fallback)
    {
        if (ping is null) return;
        if (ping.Count is int c && c is < 1 or > 20) throw new ConfigException(path, at + ".count", $"expected a whole number of echoes from 1 to 20; found {c}.");
        if (ping.IntervalMs is double i && !(i >= 0 && i <= 1000)) throw new ConfigException(path, at + ".intervalMs", $"expected milliseconds from 0 to 1000; found {i}.");
        if (ping.WarningLossPercent is double w && !(w > 0 && w <= 100)) throw new ConfigException(path, at + ".warningLossPercent", $"expected a percentage above 0, at most 100; found {w}.");
        if (ping.CriticalLossPercent is double k && !(k > 0 && k <= 100)) throw new ConfigException(path, at + ".criticalLossPercent", $"expected a percentage above 0, at most 100; found {k}.");
        if (ping.WarningRttMs is double wr && !(wr > 0) || double.IsInfinity(ping.WarningRttMs ?? 0)) throw new ConfigException(path, at + ".warningRttMs", $"expected a positive number of milliseconds; found {ping.WarningRttMs}.");
        if (ping.CriticalRttMs is double cr && !(cr > 0) || double.IsInfinity(ping.CriticalRttMs ?? 0)) throw new ConfigException(path, at + ".criticalRttMs", $"expected a positive number of milliseconds; found {ping.CriticalRttMs}.");
        var merged = ping.Over(fallback);
        var warning = merged.WarningLossPercent ?? PingConfig.DefaultWarningLossPercent;
        var critical = merged.CriticalLossPercent ?? PingConfig.DefaultCriticalLossPercent;
        if (warning > critical) throw new ConfigException(path, at + ".warningLossPercent", $"the warning loss ({warning} %) must not exceed the critical loss ({critical} %).");
        if (merged.WarningRttMs is double mw && merged.CriticalRttMs is double mc && mw > mc) throw new ConfigException(path, at + ".warningRttMs", $"the warning round trip ({mw} ms) must not exceed the critical one ({mc} ms).");
    }

    private static void Endpoint(string path, string at, EndpointConfig? endpoint)
    {
        if (endpoint is null) return;
        Url(path, at + ".url", endpoint.Url, required: true);
        Secret(path, at + ".password", endpoint.Password, required: false);
        Secret(path, at + ".bearerToken", endpoint.BearerToken, required: false);
        if (endpoint.Password is not null && string.IsNullOrWhiteSpace(endpoint.Username))
        {
            throw new ConfigException(path, at + ".username", "a password needs a username.");
        }
    }

    /// <summary>Longest timeout accepted, in seconds (one day): larger numbers are typos, and 1e300 would overflow.</summary>
    public const double MaxSeconds = 86_400;

    private static void Positive(string path, string at, double value) => Range(path, at, value, MaxSeconds, "seconds");

    /// <summary>A number above 0 and at most <paramref name="max"/>, in <paramref name="unit"/>.</summary>
    private static void Range(string path, string at, double value, double max, string unit)
    {
        if (!(value > 0) || !(value <= max))
        {
            throw new ConfigException(path, at, $"expected a number of {unit} above 0 and at most {max.ToString(System.Globalization.CultureInfo.InvariantCulture)}; found {value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}.");
        }
    }

    private static void Url(string path, string at, string? value, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required) throw new ConfigException(path, at, "expected an http(s) URL, for example \"https://host:8006\".");
            return;
        }
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ConfigException(path, at, $"expected an absolute http(s) URL; found '{value}'.");
        }
    }

    private static void Secret(string path, string at, SecretReference? secret, bool required)
    {
        if (secret is null)
        {
            if (required) throw new ConfigException(path, at, "expected a secret reference: { \"file\": \"/etc/pve-health/...\" } or { \"env\": \"VARIABLE\" }.");
            return;
        }
        var hasFile = !string.IsNullOrWhiteSpace(secret.File);
        var hasEnv = !string.IsNullOrWhiteSpace(secret.Env);
        if (hasFile == hasEnv)
        {
            throw new ConfigException(path, at, "expected exactly one of \"file\" or \"env\" (secrets are referenced, never written into the configuration).");
        }
    }
}

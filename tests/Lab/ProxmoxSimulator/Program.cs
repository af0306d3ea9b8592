// Proxmox VE API simulator for the PveHealth lab (test support, not shipped).
// Faithful to the facts in DESIGN.md: {"data": ...} bodies, 0/1 booleans, token auth with the 3 s delay
// on 401, 403 "Permission check failed", 500 agent reasons, 595 for an offline node, status "unknown"
// in /cluster/resources for guests of an offline node. State comes from a JSON file and can be changed
// through /_lab/* (header X-Lab-Control).
//
// Usage: ProxmoxSimulator --state <state.json> --listen 127.0.0.1 --port <n> --out <dir> [--san 127.10.0.1 ...]
//        [--port2 <n>] (a second environment's cluster: same guests, a clean node health estate, no HA, no Ceph)
//        [--cert-days <days>] (the API certificate's remaining life; default 365)
// Writes <out>/proxmox-cert.pem, <out>/proxmox-fingerprint.txt, then <out>/proxmox-ready once listening.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

var opts = ParseArgs(args);
var statePath = opts.GetValueOrDefault("state") ?? throw new ArgumentException("--state is required");
var outDir = opts.GetValueOrDefault("out") ?? Path.GetDirectoryName(Path.GetFullPath(statePath))!;
var listen = IPAddress.Parse(opts.GetValueOrDefault("listen") ?? "127.0.0.1");
var port = int.Parse(opts.GetValueOrDefault("port") ?? "8006", System.Globalization.CultureInfo.InvariantCulture);
var sans = (opts.GetValueOrDefault("san") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries);
var port2 = int.Parse(opts.GetValueOrDefault("port2") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
var certDays = double.Parse(opts.GetValueOrDefault("cert-days") ?? "365", System.Globalization.CultureInfo.InvariantCulture);

var lab = LabState.Load(statePath);
var cert = CreateCertificate(sans, outDir, certDays);

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(listen, port, l =>
    {
        l.Protocols = HttpProtocols.Http1; // reason phrases matter (Proxmox puts its error text there)
        l.UseHttps(cert);
    });
    if (port2 > 0)
    {
        k.Listen(listen, port2, l =>
        {
            l.Protocols = HttpProtocols.Http1;
            l.UseHttps(cert);
        });
    }
});
var app = builder.Build();

app.Lifetime.ApplicationStarted.Register(() => File.WriteAllText(Path.Combine(outDir, "proxmox-ready"), port.ToString(System.Globalization.CultureInfo.InvariantCulture)));

// ---- lab control API -------------------------------------------------------------------------
app.Map("/_lab/{**rest}", async (HttpContext ctx, string? rest) =>
{
    if (ctx.Request.Headers["X-Lab-Control"] != lab.ControlToken) return Results.StatusCode(403);
    var parts = (rest ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
    JsonObject body = new();
    if (HttpMethods.IsPost(ctx.Request.Method) || HttpMethods.IsPut(ctx.Request.Method))
    {
        try { body = (await JsonNode.ParseAsync(ctx.Request.Body) as JsonObject) ?? new JsonObject(); }
        catch (JsonException ex) { return Results.BadRequest(new { error = "invalid JSON: " + ex.Message }); }
    }
    lock (lab)
    {
        switch (parts)
        {
            case ["state"]:
                return Results.Text(lab.ToJson(), "application/json");
            case ["reset-counters"]:
                lab.ResetCounts();
                return Results.Text(lab.ToJson(), "application/json");
            case ["guest", var id] when int.TryParse(id, out var vmid):
                var g = lab.Guests.FirstOrDefault(x => x.VmId == vmid);
                if (g is null) return Results.NotFound(new { error = $"no guest {vmid}" });
                if (body["status"] is JsonValue s) g.Status = s.GetValue<string>();
                if (body["agent"] is JsonValue a) g.Agent = a.GetValue<string>();
                return Results.Json(g, LabState.Json);
            case ["nodehealth"]:
                // Replaces the keys given (certificateDays, pools, disks, haServices, haQuorate, ceph, runningKernel, updates).
                var current = JsonSerializer.SerializeToNode(lab.NodeHealth, LabState.Json)!.AsObject();
                foreach (var (key, value) in body) current[key] = value?.DeepClone();
                lab.NodeHealth = current.Deserialize<NodeHealthLab>(LabState.Json)!;
                return Results.Json(lab.NodeHealth, LabState.Json);
            case ["node", var name]:
                var n = lab.Nodes.FirstOrDefault(x => x.Name == name);
                if (n is null) return Results.NotFound(new { error = $"no node {name}" });
                if (body["online"] is JsonValue o) n.Online = o.GetValue<bool>();
                return Results.Json(n, LabState.Json);
            default:
                if (RecoveryRoutes.Control(ctx, parts, body)) return Results.Empty; // RecoveryRoutes.cs
                return Results.NotFound(new { error = "unknown control route" });
        }
    }
});

// ---- Proxmox API --------------------------------------------------------------------------------
app.Map("/api2/json/{**path}", async (HttpContext ctx, string? path) =>
{
    lab.Count($"{ctx.Request.Method} /{path}{(ctx.Request.QueryString.HasValue ? ctx.Request.QueryString.Value : string.Empty)}");
    var auth = ctx.Request.Headers.Authorization.ToString();
    if (!lab.Authorized(auth))
    {
        await Task.Delay(3000, ctx.RequestAborted); // Proxmox delays every failed authentication by ~3 s
        Error(ctx, 401, string.IsNullOrEmpty(auth) ? "No ticket" : "authentication failure");
        return;
    }
    var segs = (path ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
    var method = ctx.Request.Method;
    if (RecoveryRoutes.DelayOf(segs) is > 0 and var delay) await Task.Delay(delay, ctx.RequestAborted); // a slow answer, outside the lock
    lock (lab)
    {
        Handle(ctx, method, segs, path ?? string.Empty);
    }
    // The answer is composed under the lock and sent after it (Answer.Body): a client that reads a large answer slowly
    // (a PBS content listing of 1,000 guests over TLS) holds up no other request, as with pveproxy's workers.
    if (Answer.Body(ctx) is { } answer) await ctx.Response.WriteAsync(answer, ctx.RequestAborted);
});

app.Run();
return;

void Handle(HttpContext ctx, string method, string[] segs, string path)
{
    var get = HttpMethods.IsGet(method);
    if (RecoveryRoutes.Handle(ctx, method, segs, lab)) return; // storage, backups, tasks, replication, snapshots
    var health = port2 > 0 && ctx.Connection.LocalPort == port2 ? lab.SecondNodeHealth : lab.NodeHealth;
    switch (segs)
    {
        case ["version"] when get:
            Data(ctx, new JsonObject { ["version"] = "8.3.2", ["release"] = "8.3", ["repoid"] = "3e76eec21c4a14a7" });
            return;
        case ["cluster", "status"] when get:
            Data(ctx, ClusterStatus());
            return;
        case ["cluster", "resources"] when get:
            Data(ctx, Resources(ctx.Request.Query["type"].ToString()));
            return;
        case ["nodes"] when get:
            Data(ctx, new JsonArray(lab.Nodes.Select(n => (JsonNode)new JsonObject
            {
                ["node"] = n.Name, ["type"] = "node", ["id"] = "node/" + n.Name,
                ["status"] = n.Online ? "online" : "offline",
            }).ToArray()));
            return;
        case ["nodes", var node, ..]:
            var n = lab.Nodes.FirstOrDefault(x => x.Name == node);
            if (n is null) { Error(ctx, 500, $"hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known"); return; }
            if (!n.Online) { Error(ctx, 595, $"No route to host"); return; }
            if (NodeHealthRoutes.Answer(health, method, segs, lab.Nodes.Where(x => x.Online).Select(x => x.Name).ToList()) is { } nodeAnswer) { Reply(ctx, nodeAnswer); return; }
            GuestRoute(ctx, method, segs, n, path);
            return;
        default:
            if (NodeHealthRoutes.Answer(health, method, segs, lab.Nodes.Where(x => x.Online).Select(x => x.Name).ToList()) is { } clusterAnswer) { Reply(ctx, clusterAnswer); return; }
            Error(ctx, 501, $"Method '{method} /api2/json/{path}' not implemented");
            return;
    }
}

static void Reply(HttpContext ctx, SimAnswer answer)
{
    if (answer.Status == 200) Data(ctx, answer.Data);
    else Error(ctx, answer.Status, answer.Reason);
}

void GuestRoute(HttpContext ctx, string method, string[] segs, LabNode node, string path)
{
    if (segs.Length < 4 || segs[2] is not ("qemu" or "lxc") || !int.TryParse(segs[3], out var vmid))
    {
        Error(ctx, 501, $"Method '{method} /api2/json/{path}' not implemented");
        return;
    }
    var type = segs[2];
    var g = lab.Guests.FirstOrDefault(x => x.VmId == vmid && x.Type == type && x.Node == node.Name);
    if (g is null)
    {
        var dir = type == "qemu" ? "qemu-server" : "lxc";
        Error(ctx, 500, $"Configuration file 'nodes/{node.Name}/{dir}/{vmid}.conf' does not exist");
        return;
    }
    if (g.Restricted)
    {
        Error(ctx, 403, $"Permission check failed (/vms/{vmid}, VM.Audit)");
        return;
    }
    var rest = segs[4..];
    var get = HttpMethods.IsGet(method);
    var post = HttpMethods.IsPost(method);
    var running = g.Status == "running";
    switch (rest)
    {
        case ["status", "current"] when get:
            var o = new JsonObject
            {
                ["vmid"] = g.VmId, ["name"] = g.Name, ["status"] = g.Status,
                ["uptime"] = running ? g.Uptime : 0, ["cpus"] = g.Cpus, ["maxmem"] = g.MaxMem,
                ["mem"] = running ? g.MaxMem / 3 : 0, ["cpu"] = running ? 0.02 : 0,
                ["maxdisk"] = 8L << 30, ["disk"] = 0, ["netin"] = 0, ["netout"] = 0,
                ["ha"] = new JsonObject { ["managed"] = 0 },
            };
            if (g.Tags.Length > 0) o["tags"] = string.Join(';', g.Tags);
            if (g.Template) o["template"] = 1;
            if (type == "qemu")
            {
                o["qmpstatus"] = running ? "running" : "stopped";
                if (g.Agent != "none") o["agent"] = 1;
                if (running) o["pid"] = 10000 + g.VmId;
                o["running-machine"] = running ? "pc-i440fx-9.0+pve0" : null;
            }
            else
            {
                o["type"] = "lxc";
                o["swap"] = 0; o["maxswap"] = 512L << 20;
            }
            Data(ctx, o);
            return;
        case ["config"] when get:
            // The guest's configuration as qemu-server / pve-container return it: only keys that are set (onboot absent
            // means off), agent as its property string, tags joined with ';', a digest.
            var c = new JsonObject { ["digest"] = Convert.ToHexString(SHA1.HashData(System.Text.Encoding.UTF8.GetBytes($"{g.VmId}/{g.Name}/{g.OnBoot}"))).ToLowerInvariant() };
            if (type == "qemu")
            {
                c["name"] = g.Name; c["cores"] = g.Cpus; c["memory"] = (g.MaxMem >> 20).ToString(System.Globalization.CultureInfo.InvariantCulture);
                c["ostype"] = "l26"; c["scsihw"] = "virtio-scsi-single"; c["net0"] = $"virtio={Mac(g.VmId).ToUpperInvariant()},bridge=vmbr0";
                if (g.Agent != "none") c["agent"] = "1";
            }
            else
            {
                c["hostname"] = g.Name; c["cores"] = g.Cpus; c["memory"] = g.MaxMem >> 20; c["swap"] = 512;
                c["ostype"] = "debian"; c["arch"] = "amd64"; c["unprivileged"] = 1;
                c["net0"] = $"name=eth0,bridge=vmbr0,hwaddr={Mac(g.VmId).ToUpperInvariant()},ip={g.Ip}/24,type=veth";
            }
            if (g.OnBoot) c["onboot"] = 1;
            if (g.Template) c["template"] = 1;
            if (g.Tags.Length > 0) c["tags"] = string.Join(';', g.Tags);
            Data(ctx, c);
            return;
        case ["agent", "ping"] when post && type == "qemu":
            if (g.Agent == "none") { Error(ctx, 500, "No QEMU guest agent configured"); return; }
            if (!running) { Error(ctx, 500, $"VM {vmid} is not running"); return; }
            if (g.Agent == "down") { Error(ctx, 500, "QEMU guest agent is not running"); return; }
            Data(ctx, new JsonObject { ["result"] = new JsonObject() });
            return;
        case ["agent", "network-get-interfaces"] when get && type == "qemu":
            if (g.Agent == "none") { Error(ctx, 500, "No QEMU guest agent configured"); return; }
            if (!running) { Error(ctx, 500, $"VM {vmid} is not running"); return; }
            if (g.Agent == "down") { Error(ctx, 500, "QEMU guest agent is not running"); return; }
            Data(ctx, new JsonObject
            {
                ["result"] = new JsonArray(
                    new JsonObject
                    {
                        ["name"] = "lo", ["hardware-address"] = "00:00:00:00:00:00",
                        ["ip-addresses"] = new JsonArray(
                            new JsonObject { ["ip-address"] = "127.0.0.1", ["ip-address-type"] = "ipv4", ["prefix"] = 8 },
                            new JsonObject { ["ip-address"] = "::1", ["ip-address-type"] = "ipv6", ["prefix"] = 128 }),
                    },
                    new JsonObject
                    {
                        ["name"] = "eth0", ["hardware-address"] = Mac(g.VmId),
                        ["ip-addresses"] = new JsonArray(
                            new JsonObject { ["ip-address"] = g.Ip, ["ip-address-type"] = "ipv4", ["prefix"] = 24 },
                            new JsonObject { ["ip-address"] = $"fe80::be24:11ff:fe00:{g.VmId:x}", ["ip-address-type"] = "ipv6", ["prefix"] = 64 }),
                        ["statistics"] = new JsonObject { ["rx-bytes"] = 1024, ["tx-bytes"] = 2048, ["rx-packets"] = 10, ["tx-packets"] = 20, ["rx-errs"] = 0, ["tx-errs"] = 0, ["rx-dropped"] = 0, ["tx-dropped"] = 0 },
                    }),
            });
            return;
        case ["interfaces"] when get && type == "lxc":
            if (!running) { Data(ctx, null); return; }
            Data(ctx, new JsonArray(
                new JsonObject { ["name"] = "lo", ["hwaddr"] = "00:00:00:00:00:00", ["inet"] = "127.0.0.1/8", ["inet6"] = "::1/128" },
                new JsonObject { ["name"] = "eth0", ["hwaddr"] = Mac(g.VmId), ["inet"] = g.Ip + "/24", ["inet6"] = $"fe80::be24:11ff:fe00:{g.VmId:x}/64" }));
            return;
        default:
            Error(ctx, 501, $"Method '{method} /api2/json/{path}' not implemented");
            return;
    }
}

JsonArray ClusterStatus()
{
    var online = lab.Nodes.Count(n => n.Online);
    var arr = new JsonArray
    {
        new JsonObject
        {
            ["type"] = "cluster", ["id"] = "cluster", ["name"] = lab.ClusterName, ["nodes"] = lab.Nodes.Count,
            ["quorate"] = online * 2 > lab.Nodes.Count ? 1 : 0, ["version"] = 3,
        },
    };
    var i = 1;
    foreach (var n in lab.Nodes)
    {
        arr.Add(new JsonObject
        {
            ["type"] = "node", ["id"] = "node/" + n.Name, ["name"] = n.Name, ["nodeid"] = i,
            ["ip"] = "127.0.0.1", ["local"] = i == 1 ? 1 : 0, ["online"] = n.Online ? 1 : 0, ["level"] = "",
        });
        i++;
    }
    return arr;
}

JsonArray Resources(string type)
{
    var arr = new JsonArray();
    if (type is "" or "node")
    {
        foreach (var n in lab.Nodes)
        {
            arr.Add(new JsonObject
            {
                ["id"] = "node/" + n.Name, ["type"] = "node", ["node"] = n.Name, ["status"] = n.Online ? "online" : "offline",
                ["maxcpu"] = 8, ["maxmem"] = 32L << 30, ["uptime"] = n.Online ? 86400 : 0, ["level"] = "",
            });
        }
    }
    if (type is "" or "vm")
    {
        foreach (var g in lab.Guests.Where(g => !g.Restricted))
        {
            var nodeOnline = lab.Nodes.FirstOrDefault(n => n.Name == g.Node)?.Online ?? false;
            var o = new JsonObject
            {
                ["id"] = $"{g.Type}/{g.VmId}", ["type"] = g.Type, ["vmid"] = g.VmId, ["node"] = g.Node, ["name"] = g.Name,
                ["status"] = nodeOnline ? g.Status : "unknown", ["template"] = g.Template ? 1 : 0,
            };
            if (nodeOnline)
            {
                var running = g.Status == "running";
                o["uptime"] = running ? g.Uptime : 0;
                o["cpu"] = running ? 0.02 : 0;
                o["maxcpu"] = g.Cpus;
                o["mem"] = running ? g.MaxMem / 3 : 0;
                o["maxmem"] = g.MaxMem;
                o["disk"] = 0; o["maxdisk"] = 8L << 30;
                o["netin"] = 0; o["netout"] = 0; o["diskread"] = 0; o["diskwrite"] = 0;
            }
            if (g.Tags.Length > 0) o["tags"] = string.Join(';', g.Tags);
            if (g.Pool is not null) o["pool"] = g.Pool;
            arr.Add(o);
        }
    }
    return arr;
}

static string Mac(int vmid) => $"bc:24:11:00:{(vmid >> 8) & 0xff:x2}:{vmid & 0xff:x2}";

static void Data(HttpContext ctx, JsonNode? data)
{
    ctx.Response.StatusCode = 200;
    ctx.Response.ContentType = "application/json;charset=UTF-8";
    Answer.Set(ctx, new JsonObject { ["data"] = data });
}

static void Error(HttpContext ctx, int status, string reason)
{
    ctx.Response.StatusCode = status;
    ctx.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = reason;
    if (status == 401) return; // Proxmox answers 401 with no JSON body
    ctx.Response.ContentType = "application/json;charset=UTF-8";
    Answer.Set(ctx, new JsonObject { ["data"] = null, ["message"] = reason + "\n" });
}

static X509Certificate2 CreateCertificate(string[] sans, string outDir, double days)
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var req = new CertificateRequest("CN=pve1.lab.invalid, O=PveHealth lab", key, HashAlgorithmName.SHA256);
    var san = new SubjectAlternativeNameBuilder();
    san.AddIpAddress(IPAddress.Loopback);
    san.AddDnsName("pve1.lab.invalid");
    foreach (var s in sans) if (IPAddress.TryParse(s, out var ip) && !ip.Equals(IPAddress.Loopback)) san.AddIpAddress(ip);
    req.CertificateExtensions.Add(san.Build());
    req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
    req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
    req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
    using var created = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(days));
    var cert = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    File.WriteAllText(Path.Combine(outDir, "proxmox-cert.pem"), cert.ExportCertificatePem() + "\n");
    var fp = string.Join(':', SHA256.HashData(cert.RawData).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
    File.WriteAllText(Path.Combine(outDir, "proxmox-fingerprint.txt"), fp + "\n");
    return cert;
}

static Dictionary<string, string> ParseArgs(string[] args)
{
    var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument {args[i]}");
        d[args[i][2..]] = args[i + 1];
    }
    return d;
}

sealed class LabState
{
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public string ClusterName { get; set; } = "lab";
    public string TokenId { get; set; } = "root@pam!pvehealth";
    public string TokenSecret { get; set; } = string.Empty;
    public string ControlToken { get; set; } = string.Empty;
    public List<LabNode> Nodes { get; set; } = [];
    public List<LabGuest> Guests { get; set; } = [];
    /// <summary>Node health (NodeHealthRoutes.cs); the default is the scripted faults.</summary>
    public NodeHealthLab NodeHealth { get; set; } = new();
    /// <summary>What the second port (--port2) serves: a clean estate without HA or Ceph.</summary>
    public NodeHealthLab SecondNodeHealth { get; set; } = NodeHealthLab.Clean();

    public static LabState Load(string path)
    {
        var s = JsonSerializer.Deserialize<LabState>(File.ReadAllText(path), Json) ?? throw new InvalidDataException("empty state");
        if (s.TokenSecret.Length == 0 || s.ControlToken.Length == 0) throw new InvalidDataException("tokenSecret and controlToken are required");
        return s;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);

    /// <summary>Counts API requests by "METHOD /path?query" (read back in /_lab/state as "requests"; reset with /_lab/reset-counters).</summary>
    public void Count(string key) => _requests.AddOrUpdate(key, 1, (_, n) => n + 1);

    public SortedDictionary<string, int> RequestCounts() => new(_requests, StringComparer.Ordinal);

    public void ResetCounts() => _requests.Clear();

    public bool Authorized(string header)
    {
        const string prefix = "PVEAPIToken=";
        if (!header.StartsWith(prefix, StringComparison.Ordinal)) return false;
        var rest = header[prefix.Length..];
        var eq = rest.LastIndexOf('=');
        if (eq <= 0) return false;
        var id = rest[..eq];
        var secret = rest[(eq + 1)..];
        return id == TokenId && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(TokenSecret));
    }

    public string ToJson()
    {
        // The state without the secrets.
        var copy = new { ClusterName, TokenId, Nodes, Guests, Requests = RequestCounts() };
        return JsonSerializer.Serialize(copy, Json);
    }
}

sealed class LabNode
{
    public string Name { get; set; } = string.Empty;
    public bool Online { get; set; } = true;
}

sealed class LabGuest
{
    public int VmId { get; set; }
    public string Name { get; set; } = string.Empty;
    public string Node { get; set; } = "pve1";
    public string Type { get; set; } = "qemu";
    public string Status { get; set; } = "running";
    /// <summary>up, down or none (not configured).</summary>
    public string Agent { get; set; } = "up";
    public bool Template { get; set; }
    /// <summary>The lab token may not see this guest (403 on its routes, absent from resources).</summary>
    public bool Restricted { get; set; }
    public string[] Tags { get; set; } = [];
    public string? Pool { get; set; }
    /// <summary>Start at boot (<c>onboot</c> in the guest's config; absent = off).</summary>
    public bool OnBoot { get; set; }
    public string Ip { get; set; } = string.Empty;
    public int Cpus { get; set; } = 2;
    public long MaxMem { get; set; } = 2L << 30;
    public long Uptime { get; set; } = 3600;
}

/// <summary>The answer body a route composed under the simulator's lock, sent by the request handler after the lock.</summary>
static class Answer
{
    private const string Key = "pvelab.answer";
    public static void Set(HttpContext ctx, JsonNode body) => ctx.Items[Key] = body.ToJsonString();
    public static string? Body(HttpContext ctx) => ctx.Items.TryGetValue(Key, out var b) ? b as string : null;
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using PveHealth.Configuration;

namespace PveHealth.Clients.Proxmox;

/// <summary>How the server certificate is trusted.</summary>
public sealed class ProxmoxTlsPolicy
{
    /// <summary>SHA-256 of the server certificate, hex with or without colons.</summary>
    public string? Fingerprint { get; init; }
    /// <summary>PEM file of the CA(s) that signed the server certificate (custom trust store, the system store is not used).</summary>
    public string? CaFile { get; init; }
    /// <summary>Do not verify at all (loud: every run warns).</summary>
    public bool SkipCertificateCheck { get; init; }
}

/// <summary>
/// A small Proxmox VE API client: token authentication (<c>PVEAPIToken=USER@REALM!TOKENID=SECRET</c>), TLS verified by
/// the system store, a CA file or a pinned SHA-256 fingerprint, one pooled HTTP/1.1 connection set per client, a
/// timeout on every call, and failures turned into <see cref="ProxmoxApiException"/> with actionable wording.
/// The secret is only ever in the Authorization header; messages are scrubbed of it.
/// </summary>
public sealed class ProxmoxClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _secret;
    private readonly ProxmoxTlsPolicy _tls;
    private readonly X509Certificate2Collection? _caCerts;
    private readonly byte[]? _pinned;
    private volatile string? _lastRejection;
    private volatile ProxmoxApiException? _remembered;

    public ProxmoxClient(Uri baseUrl, string tokenId, string secret, ProxmoxTlsPolicy tls, TimeSpan timeout)
    {
        BaseUrl = baseUrl.GetLeftPart(UriPartial.Authority);
        TokenId = tokenId;
        _secret = secret;
        SecretScrubber.Register(secret);
        SecretScrubber.Register($"{tokenId}={secret}");
        _tls = tls;
        Timeout = timeout;
        if (!string.IsNullOrWhiteSpace(tls.Fingerprint))
        {
            _pinned = ParseFingerprint(tls.Fingerprint)
                ?? throw new ProxmoxApiException(ProxmoxFailure.Setup, $"the certificate fingerprint '{tls.Fingerprint}' is not a SHA-256 in hex (64 hex digits, colons optional)");
        }
        else if (!string.IsNullOrWhiteSpace(tls.CaFile))
        {
            try
            {
                _caCerts = new X509Certificate2Collection();
                _caCerts.ImportFromPemFile(tls.CaFile);
                if (_caCerts.Count == 0) throw new CryptographicException("no certificate in the file");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new ProxmoxApiException(ProxmoxFailure.Setup, $"cannot read the CA file {tls.CaFile}: {ex.Message}");
            }
        }
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            MaxConnectionsPerServer = 16,
            ConnectTimeout = timeout,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            UseCookies = false,
            AllowAutoRedirect = false,
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = Validate },
        };
        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = new Uri(BaseUrl + "/api2/json/"),
            Timeout = System.Threading.Timeout.InfiniteTimeSpan, // every call has its own deadline
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("PveHealth", "1.0"));
    }

    /// <summary>Default of the most of one answer this client reads (after decompression); more is an "unexpected answer".</summary>
    public const long MaxAnswerBytes = BoundedInput.ProxmoxAnswerBytes;

    /// <summary>The most of one answer this client reads: <c>proxmox.maxAnswerMiB</c>, else <see cref="MaxAnswerBytes"/>.</summary>
    public long MaxAnswer { get; init; } = MaxAnswerBytes;

    /// <summary>https://host:port (no path).</summary>
    public string BaseUrl { get; }
    public string TokenId { get; }
    /// <summary>True when certificate verification is off (warned about on every run).</summary>
    public bool SkipsCertificateCheck => _tls.SkipCertificateCheck;
    /// <summary>Deadline of each call.</summary>
    public TimeSpan Timeout { get; }
    /// <summary>Requests sent by this client (the run's count of API calls).</summary>
    public int RequestCount => _requests;
    private int _requests;

    /// <summary>
    /// The client for a configuration section. The secret comes from <c>config.Credential</c> when given
    /// (user name = token id, password = secret), else from <c>tokenSecret</c> through <see cref="SecretResolver"/>.
    /// </summary>
    public static ProxmoxClient Create(ProxmoxConfig config, TimeSpan defaultTimeout)
    {
        if (string.IsNullOrWhiteSpace(config.Url) || !Uri.TryCreate(config.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
        {
            throw new ProxmoxApiException(ProxmoxFailure.Setup, $"Proxmox URL '{config.Url}' is not an absolute https URL (proxmox.url or -ProxmoxUrl)");
        }
        string tokenId;
        string secret;
        if (config.Credential is { } cred)
        {
            tokenId = string.IsNullOrWhiteSpace(cred.UserName) ? config.TokenId ?? string.Empty : cred.UserName;
            secret = cred.Password;
        }
        else
        {
            tokenId = config.TokenId ?? string.Empty;
            if (config.TokenSecret is null) throw new ProxmoxApiException(ProxmoxFailure.Setup, "no Proxmox token secret: set proxmox.tokenSecret or pass -Credential");
            try { secret = SecretResolver.Resolve(config.TokenSecret, "proxmox.tokenSecret"); }
            catch (SecretUnavailableException ex) { throw new ProxmoxApiException(ProxmoxFailure.Setup, ex.Message); }
        }
        if (!tokenId.Contains('!') || !tokenId.Contains('@'))
        {
            throw new ProxmoxApiException(ProxmoxFailure.Setup, $"Proxmox token id '{tokenId}' is not USER@REALM!TOKENID (proxmox.tokenId, or the user name of -Credential)");
        }
        if (string.IsNullOrEmpty(secret)) throw new ProxmoxApiException(ProxmoxFailure.Setup, "the Proxmox token secret is empty");
        var timeout = config.TimeoutSec is double t ? TimeSpan.FromSeconds(t) : defaultTimeout;
        return new ProxmoxClient(url, tokenId, secret, new ProxmoxTlsPolicy
        {
            Fingerprint = config.Fingerprint,
            CaFile = config.CaFile,
            SkipCertificateCheck = config.SkipCertificateCheck,
        }, timeout)
        {
            MaxAnswer = config.MaxAnswerMiB is int mib ? mib * 1024L * 1024L : MaxAnswerBytes,
        };
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken, TimeSpan? timeout = null, TimeSpan? stated = null)
        => SendAsync(HttpMethod.Get, path, cancellationToken, timeout, stated);

    public Task<JsonElement> PostAsync(string path, CancellationToken cancellationToken, TimeSpan? timeout = null, TimeSpan? stated = null)
        => SendAsync(HttpMethod.Post, path, cancellationToken, timeout, stated);

    /// <summary>
    /// One call; returns the <c>data</c> member (JsonValueKind.Null for data: null). Throws <see cref="ProxmoxApiException"/>,
    /// or <see cref="OperationCanceledException"/> only when <paramref name="cancellationToken"/> itself was cancelled.
    /// Once the server rejected the token (401, which Proxmox answers only after a deliberate delay of about 3 s, whatever
    /// the path), or a failure was <see cref="Remember"/>ed, every later call of this client fails at once with that
    /// error and sends nothing: a run pays the delay once, not once per request in series.
    /// A timeout's message names <paramref name="stated"/> when given (a unit's nominal limit, the same for every unit of
    /// its kind, while <paramref name="timeout"/> is what the unit had left), else the limit waited.
    /// </summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, CancellationToken cancellationToken, TimeSpan? timeout = null, TimeSpan? stated = null)
    {
        if (_remembered is { } known)
        {
            throw new ProxmoxApiException(known.Failure, known.Message, known.StatusCode, known.Reason);
        }
        path = path.TrimStart('/');
        var limit = timeout is { } t && t < Timeout ? t : Timeout;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(limit);
        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("Authorization", $"PVEAPIToken={TokenId}={_secret}");
        if (method == HttpMethod.Post) request.Content = new ByteArrayContent([]);
        Interlocked.Increment(ref _requests);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            if (Clients.Redirects.Describe(response) is { } redirect)
            {
                throw new ProxmoxApiException(ProxmoxFailure.Http, $"{method.Method} /{path}: {redirect}", (int)response.StatusCode, response.ReasonPhrase);
            }
            byte[] body;
            try
            {
                body = await BoundedInput.ReadAsync(response.Content, MaxAnswer, $"the answer of {BaseUrl} to {method.Method} /{path}", cts.Token).ConfigureAwait(false);
            }
            catch (InputTooLargeException ex)
            {
                throw new ProxmoxApiException(ProxmoxFailure.InvalidResponse, $"unexpected answer: {ex.Message}", inner: ex);
            }
            JsonDocument? doc = null;
            UnsafeJsonException? unsafeJson = null;
            try { if (body.Length > 0) doc = SafeJson.Parse(body, $"{BaseUrl}/api2/json/{path}"); }
            catch (UnsafeJsonException ex) { unsafeJson = ex; doc = null; }
            using (doc)
            {
                if (unsafeJson is not null && response.IsSuccessStatusCode)
                {
                    throw new ProxmoxApiException(ProxmoxFailure.InvalidResponse, $"unexpected answer from {method.Method} /{path}: {unsafeJson.JsonPath}: {unsafeJson.Reason}", inner: unsafeJson);
                }
                if (!response.IsSuccessStatusCode)
                {
                    var message = doc is not null && doc.RootElement.ValueKind == JsonValueKind.Object ? ProxmoxParsers.Str(doc.RootElement, "message") : null;
                    var failure = Scrub(ProxmoxApiException.FromStatus((int)response.StatusCode, response.ReasonPhrase, message, method.Method, "/" + path, BaseUrl, TokenId));
                    if (failure.Failure == ProxmoxFailure.Authentication) Remember(failure);
                    throw failure;
                }
                if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("data", out var data))
                {
                    throw new ProxmoxApiException(ProxmoxFailure.InvalidResponse, $"{BaseUrl}/api2/json/{path} answered {(int)response.StatusCode} without the {{\"data\": ...}} body Proxmox sends (not a Proxmox API?)");
                }
                return data.Clone();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException ex)
        {
            throw new ProxmoxApiException(ProxmoxFailure.Timeout, NoAnswerMessage(BaseUrl, method.Method, path, stated ?? limit), inner: ex);
        }
        catch (HttpRequestException ex)
        {
            throw Scrub(Classify(ex, path, stated ?? limit));
        }
    }

    /// <summary>The words of a client-side timeout: "no answer from URL within 1.8 s (GET /path; client-side timeout)".</summary>
    public static string NoAnswerMessage(string baseUrl, string method, string path, TimeSpan limit)
        => $"no answer from {baseUrl} within {HttpEndpointClient.Seconds(limit)} s ({method} /{path.TrimStart('/')}; client-side timeout)";

    /// <summary>
    /// From now on every call of this client fails at once with <paramref name="failure"/> (the first one remembered
    /// wins). For answers that hold for the whole API, not one path: a rejected token, an API that did not list the
    /// cluster's guests within the timeout while the inventory was read.
    /// </summary>
    public void Remember(ProxmoxApiException failure) => Interlocked.CompareExchange(ref _remembered, failure, null);

    private ProxmoxApiException Classify(HttpRequestException ex, string path, TimeSpan limit)
    {
        var socket = Find<SocketException>(ex);
        if (Find<AuthenticationException>(ex) is not null || ex.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            var seen = _lastRejection;
            var text = seen is not null
                ? $"TLS failure: the certificate of {BaseUrl} is not trusted ({seen}); after verifying it on the host (pvenode cert info), pin it with proxmox.fingerprint or -CertificateFingerprint, or configure proxmox.caFile"
                : $"TLS failure talking to {BaseUrl}: {Inner(ex)}";
            return new ProxmoxApiException(ProxmoxFailure.Tls, text, inner: ex);
        }
        if (socket is { SocketErrorCode: SocketError.ConnectionRefused })
            return new ProxmoxApiException(ProxmoxFailure.ConnectionRefused, $"connection refused by {BaseUrl} (pveproxy not running, or wrong port?)", inner: ex);
        if (socket is { SocketErrorCode: SocketError.TimedOut })
            return new ProxmoxApiException(ProxmoxFailure.Timeout, $"no answer from {BaseUrl} within {HttpEndpointClient.Seconds(limit)} s (connect timed out)", inner: ex);
        if (ex.HttpRequestError == HttpRequestError.NameResolutionError)
            return new ProxmoxApiException(ProxmoxFailure.Connection, $"cannot resolve the host of {BaseUrl}: {Inner(ex)}", inner: ex);
        if (ex.HttpRequestError is HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse)
            return new ProxmoxApiException(ProxmoxFailure.InvalidResponse, $"{BaseUrl} closed the connection or sent an invalid answer for /{path}: {Inner(ex)}", inner: ex);
        return new ProxmoxApiException(ProxmoxFailure.Connection, $"cannot connect to {BaseUrl}: {Inner(ex)}", inner: ex);
    }

    private static string Inner(Exception ex)
    {
        var e = ex;
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }

    private static T? Find<T>(Exception? ex) where T : Exception
    {
        for (var e = ex; e is not null; e = e.InnerException) if (e is T t) return t;
        return null;
    }

    /// <summary>Belt and braces: a message that somehow holds the secret has it replaced.</summary>
    private static ProxmoxApiException Scrub(ProxmoxApiException ex)
    {
        var message = SecretScrubber.Scrub(ex.Message);
        var reason = SecretScrubber.ScrubOrNull(ex.Reason);
        return ReferenceEquals(message, ex.Message) && ReferenceEquals(reason, ex.Reason)
            ? ex
            : new ProxmoxApiException(ex.Failure, message, ex.StatusCode, reason);
    }

    /// <summary>The certificate of this client's last TLS handshake (the TlsCertificate result reads it; no extra connection).</summary>
    public Clients.ServerCertificateCapture ServerCertificate { get; } = new();

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        => ServerCertificate.Capture(certificate, Trusted(certificate, chain, errors));

    private bool Trusted(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_tls.SkipCertificateCheck) return true;
        if (certificate is null) { _lastRejection = "no certificate presented"; return false; }
        using var cert = new X509Certificate2(certificate);
        var seen = FormatFingerprint(SHA256.HashData(cert.RawData));
        if (_pinned is not null)
        {
            if (CryptographicOperations.FixedTimeEquals(_pinned, SHA256.HashData(cert.RawData))) return true;
            _lastRejection = $"its SHA-256 fingerprint {seen} is not the pinned {FormatFingerprint(_pinned)}";
            return false;
        }
        if (_caCerts is not null)
        {
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                _lastRejection = $"the certificate does not name the host of {BaseUrl}; SHA-256 fingerprint {seen}";
                return false;
            }
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(_caCerts);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain is not null) foreach (var e in chain.ChainElements) if (!e.Certificate.RawData.AsSpan().SequenceEqual(cert.RawData)) custom.ChainPolicy.ExtraStore.Add(e.Certificate);
            if (custom.Build(cert)) return true;
            var period = Clients.CertificateValidity.Describe(cert, custom.ChainStatus, DateTime.UtcNow);
            var other = Clients.CertificateValidity.OtherProblems(custom.ChainStatus);
            var why = other.Length == 0 && period is not null ? period
                : $"not signed by the CA in {_tls.CaFile} ({other}){(period is null ? "" : "; " + period)}";
            _lastRejection = $"{why}; SHA-256 fingerprint {seen}";
            return false;
        }
        if (errors == SslPolicyErrors.None) return true;
        var expiry = chain is null ? null : Clients.CertificateValidity.Describe(cert, chain.ChainStatus, DateTime.UtcNow);
        _lastRejection = $"{errors} against the system trust store{(expiry is null ? "" : "; " + expiry)}; SHA-256 fingerprint {seen}";
        return false;
    }

    /// <summary>64 hex digits, colons/spaces optional, "SHA256:" prefix allowed. Null when malformed.</summary>
    public static byte[]? ParseFingerprint(string text) => Configuration.NetworkValues.ParseFingerprint(text);

    public static string FormatFingerprint(byte[] hash) => string.Join(':', hash.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    public override string ToString() => $"Proxmox API {BaseUrl} (token {TokenId})";

    public void Dispose() => _http.Dispose();
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using PveHealth.Configuration;

namespace PveHealth.Clients;

/// <summary>How to reach one HTTP endpoint: URL, TLS policy and optional credentials (already resolved).</summary>
public sealed class HttpEndpointSettings
{
    public required Uri BaseUrl { get; init; }
    public string? Username { get; init; }
    /// <summary>Basic-auth password; never logged or printed.</summary>
    public string? Password { get; init; }
    /// <summary>Bearer token; never logged or printed.</summary>
    public string? BearerToken { get; init; }
    /// <summary>PEM file of the CA that signed the server certificate (else the system store).</summary>
    public string? CaFile { get; init; }
    /// <summary>Do not verify the server certificate at all.</summary>
    public bool SkipCertificateCheck { get; init; }

    /// <summary>
    /// Settings from a configuration endpoint; secrets are read through <see cref="SecretResolver"/>
    /// (throws <see cref="SecretUnavailableException"/>, whose message never holds a secret).
    /// </summary>
    public static HttpEndpointSettings FromConfig(EndpointConfig config, string what)
    {
        if (!Uri.TryCreate(config.Url, UriKind.Absolute, out var url))
        {
            throw new ArgumentException($"{what}: expected an absolute http(s) URL; found '{config.Url}'.");
        }
        return new HttpEndpointSettings
        {
            BaseUrl = url,
            Username = config.Username,
            Password = config.Password is { } p ? SecretResolver.Resolve(p, what + ".password") : null,
            BearerToken = config.BearerToken is { } b ? SecretResolver.Resolve(b, what + ".bearerToken") : null,
            CaFile = config.CaFile,
            SkipCertificateCheck = config.SkipCertificateCheck,
        };
    }
}

/// <summary>One HTTP answer: status code and (size-capped) body text.</summary>
public sealed record HttpAnswer(Uri Url, int StatusCode, string? ReasonPhrase, string Body)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;

    /// <summary>"redirect (302) to …, not followed" for a redirect answer (see <see cref="Redirects"/>); else null.</summary>
    public string? Redirect { get; init; }

    /// <summary>"HTTP 503 Service Unavailable: first line of the body".</summary>
    public string Describe()
    {
        var body = Body.Trim();
        var line = Redirect is not null ? ": " + Redirect
            : body.Length == 0 ? string.Empty : ": " + Model.CheckResult.OneLine(body.Length > 200 ? body[..200] + "..." : body);
        return SecretScrubber.Scrub($"HTTP {StatusCode}{(string.IsNullOrEmpty(ReasonPhrase) ? string.Empty : " " + ReasonPhrase)}{line}");
    }
}

/// <summary>
/// The endpoint did not answer: refused, unresolvable, TLS rejected, or no answer within the time the check
/// had (a client-side timeout, never reported as a server error). The message is a result Detail.
/// </summary>
public sealed class EndpointUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A small HTTP client for health endpoints (Prometheus, Grafana, Alertmanager, MinIO health). One
/// SocketsHttpHandler per endpoint and environment (see <see cref="ForEnvironment"/>); no client-wide
/// timeout: every call is bounded by the token and time budget its check passes.
/// </summary>
public sealed class HttpEndpointClient : IDisposable
{
    /// <summary>Most of a body this client reads (health answers and target lists are small).</summary>
    public const long MaxBodyBytes = BoundedInput.MonitoringAnswerBytes;

    private readonly HttpEndpointSettings _settings;

    public HttpEndpointClient(HttpEndpointSettings settings)
    {
        _settings = settings;
        Http = new HttpClient(CreateHandler(settings.CaFile, settings.SkipCertificateCheck, ServerCertificate), disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        Http.DefaultRequestHeaders.UserAgent.ParseAdd("PveHealth/1.0");
        SecretScrubber.Register(settings.BearerToken);
        SecretScrubber.RegisterBasic(settings.Username, settings.Password);
        if (!string.IsNullOrEmpty(settings.BearerToken))
        {
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.BearerToken);
        }
        else if (!string.IsNullOrEmpty(settings.Username))
        {
            var raw = Encoding.UTF8.GetBytes($"{settings.Username}:{settings.Password}");
            Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(raw));
        }
    }

    public Uri BaseUrl => _settings.BaseUrl;

    /// <summary>True when the certificate is not verified: checks say so in their Detail.</summary>
    public bool SkipsCertificateCheck => _settings.SkipCertificateCheck && _settings.BaseUrl.Scheme == Uri.UriSchemeHttps;

    /// <summary>The certificate of this client's last TLS handshake (the TlsCertificate result reads it; no extra connection).</summary>
    public ServerCertificateCapture ServerCertificate { get; } = new();

    /// <summary>The underlying client (shared with the Minio SDK for the same endpoint).</summary>
    public HttpClient Http { get; }

    /// <summary>The one client of this endpoint in this environment.</summary>
    public static HttpEndpointClient ForEnvironment(IEnvironmentScope context, string key, Func<HttpEndpointSettings> settings)
        => context.Shared("http:" + key, () => new HttpEndpointClient(settings()));

    /// <summary>
    /// A handler that verifies TLS against the system store, or only against <paramref name="caFile"/>,
    /// or not at all when <paramref name="skipCertificateCheck"/>; each handshake's certificate is recorded in
    /// <paramref name="capture"/> whatever the verdict.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(string? caFile, bool skipCertificateCheck, ServerCertificateCapture? capture = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = Timeout.InfiniteTimeSpan, // bounded by each call's token
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
        };
        if (skipCertificateCheck)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => capture?.Capture(certificate, true) ?? true;
        }
        else if (!string.IsNullOrWhiteSpace(caFile))
        {
            X509Certificate2Collection roots;
            try
            {
                roots = new X509Certificate2Collection();
                roots.ImportFromPemFile(caFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new EndpointUnreachableException($"cannot read the CA file {caFile}: {ex.Message}", ex);
            }
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                var trusted = TrustedByCa(certificate, errors, roots);
                return capture?.Capture(certificate, trusted) ?? trusted;
            };
        }
        else if (capture is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => capture.Capture(certificate, errors == SslPolicyErrors.None);
        }
        return handler;
    }

    private static bool TrustedByCa(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null) return false;
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var cert = new X509Certificate2(certificate);
        return chain.Build(cert);
    }

    /// <summary>
    /// GET <paramref name="relative"/> within <paramref name="budget"/>. Any HTTP status is an answer;
    /// no answer (refused, TLS, time) throws <see cref="EndpointUnreachableException"/>. A first attempt refused or reset
    /// at once is confirmed by one more after <see cref="Confirmation.Pause"/> of <paramref name="unitTimeout"/> (else of
    /// the budget), inside the same budget; its failure then ends with <see cref="Confirmation.Suffix"/>.
    /// Cancellation by <paramref name="cancellationToken"/> (the run's) propagates as OperationCanceledException.
    /// </summary>
    public async Task<HttpAnswer> GetAsync(string relative, TimeSpan budget, CancellationToken cancellationToken, TimeSpan? unitTimeout = null)
    {
        var url = Combine(_settings.BaseUrl, relative);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(budget);
        try
        {
            return await Confirmation.RunAsync(_ => SendOnceAsync(url, cts.Token), ex => ex is HttpRequestException && Confirmation.FailsFast(ex),
                unitTimeout ?? budget, cts.Token).ConfigureAwait(false);
        }
        catch (ConfirmedFailureException confirmed) when (confirmed.InnerException is HttpRequestException failure)
        {
            throw new EndpointUnreachableException(DescribeFailure(failure, url) + confirmed.Suffix, failure);
        }
        catch (ConfirmedFailureException confirmed) when (confirmed.InnerException is InputTooLargeException tooLarge)
        {
            throw new EndpointUnreachableException(tooLarge.Message, tooLarge);
        }
        catch (InputTooLargeException ex)
        {
            throw new EndpointUnreachableException(ex.Message, ex);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EndpointUnreachableException($"no answer from {Display(url)} within {Seconds(unitTimeout is { } u ? Deadline.Stated(u) : budget)} s");
        }
        catch (HttpRequestException ex)
        {
            throw new EndpointUnreachableException(DescribeFailure(ex, url), ex);
        }
    }

    private async Task<HttpAnswer> SendOnceAsync(Uri url, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        var body = BoundedInput.Decode(await BoundedInput.ReadAsync(response.Content, MaxBodyBytes, $"the answer of {Display(url)}", ct).ConfigureAwait(false));
        return new HttpAnswer(url, (int)response.StatusCode, response.ReasonPhrase, body) { Redirect = Redirects.Describe(response) };
    }

    /// <summary>One line for a failed request: refused, resolution, TLS, or the message.</summary>
    public static string DescribeFailure(Exception ex, Uri url)
    {
        var target = $"{url.Host}:{url.Port}";
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return $"connection refused by {target}";
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData }:
                    return $"cannot resolve {url.Host}";
                case SocketException { SocketErrorCode: SocketError.HostUnreachable or SocketError.NetworkUnreachable } s:
                    return $"{target} unreachable: {s.Message}";
                case SocketException { SocketErrorCode: SocketError.ConnectionReset }:
                    return $"connection reset by {target}";
                case AuthenticationException a:
                    return $"TLS handshake with {target} failed: {Model.CheckResult.OneLine(a.Message)} (set caFile, or skipCertificateCheck for a lab)";
            }
        }
        if (ex is HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded })
        {
            return $"{target} closed the connection without an answer";
        }
        return $"{Display(url)}: {Model.CheckResult.OneLine(ex.Message)}";
    }

    /// <summary>Appends <paramref name="relative"/> to the base URL, keeping a path prefix (https://host/prometheus/).</summary>
    public static Uri Combine(Uri baseUrl, string relative)
    {
        var text = baseUrl.GetLeftPart(UriPartial.Path);
        if (!text.EndsWith('/')) text += "/";
        return new Uri(new Uri(text), relative.TrimStart('/'));
    }

    /// <summary>URL without user info or query (nothing secret ever reaches a Detail).</summary>
    public static string Display(Uri url) => $"{url.Scheme}://{url.Host}:{url.Port}{url.AbsolutePath}";

    internal static string Seconds(TimeSpan t) => t.TotalSeconds.ToString(t.TotalSeconds % 1 == 0 ? "0" : "0.#", System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => Http.Dispose();
}

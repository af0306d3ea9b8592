namespace PveHealth.Clients;

/// <summary>
/// Redirects are never followed (every client sets <c>AllowAutoRedirect = false</c>: a redirect could send the
/// credentials, or the checks, to another host). A redirect answer is a finding, worded here once for every client.
/// </summary>
public static class Redirects
{
    /// <summary>"redirect (302) to http://host:port/path, not followed", or null when the answer is not a redirect.</summary>
    public static string? Describe(HttpResponseMessage response)
        => Describe((int)response.StatusCode, response.Headers.Location, response.RequestMessage?.RequestUri);

    /// <summary>
    /// The wording for status <paramref name="status"/> with Location <paramref name="location"/> (relative to
    /// <paramref name="requestUrl"/>); null unless the status is a 3xx with a Location. The target is shown without
    /// user info or query, and shortened: nothing secret or unbounded reaches a Detail.
    /// </summary>
    public static string? Describe(int status, Uri? location, Uri? requestUrl)
    {
        if (status is < 300 or > 399 || location is null) return null;
        var target = location.IsAbsoluteUri ? location : requestUrl is not null ? new Uri(requestUrl, location) : null;
        var text = target is null ? location.OriginalString
            : target.Scheme is "http" or "https" ? HttpEndpointClient.Display(target) : $"{target.Scheme}:";
        text = Model.CheckResult.OneLine(SecretScrubber.Scrub(text));
        if (text.Length > 200) text = text[..200] + "...";
        return $"redirect ({status}) to {text}, not followed";
    }
}

namespace PveHealth.Configuration;

/// <summary>
/// Reads a referenced secret. Messages name the reference (file path or variable name), never the value.
/// </summary>
public static class SecretResolver
{
    /// <summary>Returns the secret, or throws <see cref="SecretUnavailableException"/> saying which reference failed and why.</summary>
    public static string Resolve(SecretReference reference, string what)
    {
        if (!string.IsNullOrWhiteSpace(reference.Env))
        {
            var value = System.Environment.GetEnvironmentVariable(reference.Env);
            if (string.IsNullOrEmpty(value))
            {
                throw new SecretUnavailableException($"{what}: environment variable {reference.Env} is not set.");
            }
            return Accept(value.Trim(), what, $"environment variable {reference.Env}");
        }
        if (!string.IsNullOrWhiteSpace(reference.File))
        {
            try
            {
                var value = BoundedInput.ReadFileText(reference.File, BoundedInput.SecretFileBytes, $"{what}: file {reference.File}").Trim();
                if (value.Length == 0) throw new SecretUnavailableException($"{what}: file {reference.File} is empty.");
                return Accept(value, what, $"file {reference.File}");
            }
            catch (InputTooLargeException ex)
            {
                throw new SecretUnavailableException($"{ex.Message}; a secret file holds one token or password.");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                var reason = ex switch
                {
                    FileNotFoundException or DirectoryNotFoundException => "does not exist",
                    UnauthorizedAccessException => "is not readable by this user",
                    _ => "cannot be read",
                };
                throw new SecretUnavailableException($"{what}: file {reference.File} {reason}.");
            }
        }
        throw new SecretUnavailableException($"{what}: no secret reference given (\"file\" or \"env\").");
    }

    /// <summary>
    /// Refuses a value with a line break or another control character inside (sent in a header it would inject a
    /// header line), else registers it with the <see cref="SecretScrubber"/> and returns it.
    /// </summary>
    private static string Accept(string value, string what, string from)
    {
        if (SecretScrubber.HasControlCharacters(value))
        {
            throw new SecretUnavailableException($"{what}: the secret in {from} contains a line break or another control character; refused (a secret is one line, a trailing newline is fine).");
        }
        SecretScrubber.Register(value);
        return value;
    }
}

/// <summary>A referenced secret could not be read. The message never holds a secret.</summary>
public sealed class SecretUnavailableException(string message) : Exception(message);

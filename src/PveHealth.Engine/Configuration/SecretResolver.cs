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
            return value.Trim();
        }
        if (!string.IsNullOrWhiteSpace(reference.File))
        {
            try
            {
                var value = File.ReadAllText(reference.File).Trim();
                if (value.Length == 0) throw new SecretUnavailableException($"{what}: file {reference.File} is empty.");
                return value;
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
}

/// <summary>A referenced secret could not be read. The message never holds a secret.</summary>
public sealed class SecretUnavailableException(string message) : Exception(message);

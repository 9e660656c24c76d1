namespace RaftMall.Cli;

/// <summary>Exit codes scripts can rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The cluster refused the request (not found, conflict, validation) or a command failed.</summary>
    public const int Failure = 1;
    /// <summary>Bad arguments or a bad cluster file.</summary>
    public const int Usage = 2;
    /// <summary>No node answered, or the cluster had no leader in time.</summary>
    public const int Unavailable = 3;
    /// <summary>A demo or check found lost or inconsistent data.</summary>
    public const int VerdictFailed = 4;
}

/// <summary>Ends a command with a message and an exit code.</summary>
public class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

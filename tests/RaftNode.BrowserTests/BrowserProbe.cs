namespace RaftMall.Node.BrowserTests;

/// <summary>
/// Where the system's Chromium is (Debian's `chromium` package; RAFTMALL_CHROMIUM for another path). Playwright
/// drives it through its executable path: no browser is ever downloaded.
/// </summary>
public static class BrowserProbe
{
    /// <summary>RAFTMALL_REQUIRE_BROWSER=1 (CI sets it): a missing Chromium fails the test instead of skipping it.</summary>
    public static readonly bool Required = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("RAFTMALL_REQUIRE_BROWSER"));

    private static readonly string[] ExecutableNames = ["chromium", "chromium-browser"];

    public static readonly string? Chromium = Find();

    public static string? SkipReason => Required || Chromium is not null
        ? null
        : "Browser test skipped: no chromium found (apt-get install chromium, or set RAFTMALL_CHROMIUM); "
          + "set RAFTMALL_REQUIRE_BROWSER=1 to make this a failure";

    public static string EnsureAvailable() =>
        Chromium ?? throw new InvalidOperationException("RAFTMALL_REQUIRE_BROWSER is set but no chromium was found (apt-get install chromium, or set RAFTMALL_CHROMIUM)");

    /// <summary>Chromium's sandbox cannot start as root (CI runs as root): it needs --no-sandbox there.</summary>
    public static bool RunningAsRoot => Environment.UserName == "root";

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("RAFTMALL_CHROMIUM") is { Length: > 0 } configured) return File.Exists(configured) ? configured : null;
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => ExecutableNames.Select(name => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>A fact that is skipped, with the reason, where no Chromium is installed and none is required.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (BrowserProbe.SkipReason is { } reason) Skip = reason;
    }
}

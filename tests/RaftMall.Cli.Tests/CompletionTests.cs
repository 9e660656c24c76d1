namespace RaftMall.Cli.Tests;

/// <summary>The completion script, loaded into a real bash, completes from the tool's own commands and options.</summary>
public class CompletionTests
{
    [Theory]
    [InlineData("raftmall cluster st", "status")]
    [InlineData("raftmall order place --ti", "--timeout")]
    [InlineData("raftmall stock get apple --end", "--endpoints")]
    [InlineData("raftmall bench -w kv-p", "kv-put")]
    [InlineData("raftmall comp", "completion")]
    public async Task Bash_completes_commands_options_and_values(string line, string expected)
    {
        var directory = await ShimDirectoryAsync();
        try
        {
            var script = $"""
                source <(raftmall completion bash)
                COMP_LINE='{line}'; COMP_POINT=${"{"}#COMP_LINE{"}"}
                read -ra COMP_WORDS <<< "$COMP_LINE"; COMP_CWORD=$(( ${"{"}#COMP_WORDS[@]{"}"} - 1 ))
                _raftmall_complete
                printf '%s\n' "${"{"}COMPREPLY[@]{"}"}"
                """;
            var result = await CliProcess.RunProgramAsync("bash", ["-c", script],
                new Dictionary<string, string> { ["PATH"] = directory + ":" + Environment.GetEnvironmentVariable("PATH") });
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Contains(expected, result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [ZshTheory]
    [InlineData("cluster st", "status")]
    [InlineData("order place --ti", "--timeout")]
    [InlineData("bench -w kv-p", "kv-put")]
    public async Task Zsh_completes_commands_options_and_values(string line, string expected)
    {
        var directory = await ShimDirectoryAsync();
        try
        {
            // The widget's own variables (words, CURRENT) and a compadd that prints what it is given: compinit's real
            // compadd needs a line editor, which a test has not.
            var words = string.Join(' ', line.Split(' ').Select(w => $"'{w}'"));
            var script = $$"""
                autoload -Uz compinit && compinit -u -d '{{directory}}/zcompdump'
                source <(raftmall completion zsh)
                compadd() { shift; print -l -- "$@" }
                words=(raftmall {{words}}); CURRENT=${#words}
                _raftmall
                """;
            var result = await CliProcess.RunProgramAsync(ZshProbe.Zsh ?? throw new InvalidOperationException("RAFTMALL_REQUIRE_ZSH is set but no zsh was found (apt-get install zsh)"),
                ["-c", script], new Dictionary<string, string> { ["PATH"] = directory + ":" + Environment.GetEnvironmentVariable("PATH") });
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Contains(expected, result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A directory with `raftmall` (the tested build) in it, for PATH, as an installed tool would be.</summary>
    private static async Task<string> ShimDirectoryAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "raftmall-tests", "completion-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var shim = Path.Combine(directory, "raftmall");
        await File.WriteAllTextAsync(shim, $"#!/bin/sh\nexec dotnet '{TestPrograms.CliDll}' \"$@\"\n");
        Assert.Equal(0, (await CliProcess.RunProgramAsync("chmod", ["+x", shim])).ExitCode);
        return directory;
    }

    [Fact]
    public async Task An_unknown_shell_is_refused()
    {
        var result = await CliProcess.RunWithoutClusterFileAsync(new Dictionary<string, string>(), "completion", "fish");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("fish", result.All, StringComparison.Ordinal);
    }
}

/// <summary>Where zsh is; RAFTMALL_REQUIRE_ZSH=1 (CI sets it and installs zsh) makes a missing one a failure, not a skip.</summary>
public static class ZshProbe
{
    public static readonly string? Zsh = new[] { "/usr/bin/zsh", "/bin/zsh" }.FirstOrDefault(File.Exists);

    public static string? SkipReason => Zsh is not null || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("RAFTMALL_REQUIRE_ZSH"))
        ? null
        : "zsh completion test skipped: no zsh (apt-get install zsh); set RAFTMALL_REQUIRE_ZSH=1 to make this a failure";
}

/// <summary>A theory skipped, with the reason, where zsh is missing and not required.</summary>
public sealed class ZshTheoryAttribute : TheoryAttribute
{
    public ZshTheoryAttribute()
    {
        if (ZshProbe.SkipReason is { } reason) Skip = reason;
    }
}

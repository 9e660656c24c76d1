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
        var directory = Path.Combine(Path.GetTempPath(), "raftmall-tests", "completion-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            // `raftmall` on PATH, as an installed tool would be.
            var shim = Path.Combine(directory, "raftmall");
            await File.WriteAllTextAsync(shim, $"#!/bin/sh\nexec dotnet '{TestPrograms.CliDll}' \"$@\"\n");
            Assert.Equal(0, (await CliProcess.RunProgramAsync("chmod", ["+x", shim])).ExitCode);
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

    [Fact]
    public async Task An_unknown_shell_is_refused()
    {
        var result = await CliProcess.RunWithoutClusterFileAsync(new Dictionary<string, string>(), "completion", "fish");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("fish", result.All, StringComparison.Ordinal);
    }
}

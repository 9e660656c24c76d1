using System.CommandLine;

namespace RaftMall.Cli.Commands;

/// <summary>
/// raftmall completion bash|zsh: a script that completes commands, options and option values by asking the tool itself
/// (System.CommandLine's <c>[suggest:position]</c> directive), so completion always matches the tool's own commands.
/// </summary>
public static class CompletionCommand
{
    // Asks the tool being completed (raftmall or ./raftmall, whichever was typed) what fits the line up to the cursor.
    private const string Bash = """
        # raftmall completion for bash. Load it in this shell:      source <(raftmall completion bash)
        # or for every shell:   raftmall completion bash > /etc/bash_completion.d/raftmall
        _raftmall_complete() {
          local line="${COMP_LINE:0:COMP_POINT}"
          line="${line#"${COMP_WORDS[0]}"}"
          line="${line# }"
          local IFS=$'\n'
          COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "[suggest:${#line}]" "$line" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _raftmall_complete raftmall ./raftmall
        """;

    private const string Zsh = """
        #compdef raftmall
        # raftmall completion for zsh. Load it in this shell:       source <(raftmall completion zsh)
        # or put it on $fpath as _raftmall.
        _raftmall() {
          local line="${(j: :)words[2,CURRENT]}"
          local -a suggestions
          suggestions=("${(@f)$("${words[1]}" "[suggest:${#line}]" "$line" 2>/dev/null)}")
          compadd -- "${suggestions[@]}"
        }
        compdef _raftmall raftmall ./raftmall
        """;

    public static Command Build()
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "Print a shell completion script: source <(raftmall completion bash)") { shell };
        command.SetAction(parse =>
        {
            Console.Out.WriteLine(parse.GetValue(shell) == "zsh" ? Zsh : Bash);
            return ExitCodes.Ok;
        });
        return command;
    }
}

using System.CommandLine;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>Runs a command body and turns failures into one clear message and an exit code.</summary>
public static class CommandRunner
{
    public static void SetRun(this Command command, Func<CliContext, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, token) =>
        {
            var context = new CliContext(parse);
            try
            {
                return await body(context, token);
            }
            catch (CliException e)
            {
                Error(e.Message);
                return e.ExitCode;
            }
            catch (RaftMall.Bench.BenchException e)
            {
                Error(e.Message);
                return e.Usage ? ExitCodes.Usage : ExitCodes.Unavailable;
            }
            catch (RaftMall.Harness.HarnessException e)
            {
                Error(e.Message);
                return e.NotBuilt ? ExitCodes.Usage : ExitCodes.Failure;
            }
            catch (RaftMallUnavailableException e)
            {
                Error(context.Connection.Cluster is { } cluster
                    ? $"no node of {Path.GetFileName(cluster.SourcePath)} answers at {context.DescribeAddresses()}: start one with `raftmall cluster up` ({e.Code})"
                    : e.Detail);
                return ExitCodes.Unavailable;
            }
            catch (RaftMallException e)
            {
                Error($"{e.Code}: {e.Detail}");
                return ExitCodes.Failure;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                Error("cancelled");
                return 130;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException or TaskCanceledException)
            {
                // A network failure nothing above expected (a benchmark's read-back, say): one line that says what, not a stack.
                Error(e.Message);
                return ExitCodes.Failure;
            }
        });

    public static void Error(string message) => AnsiConsole.Console.Write(new Markup($"[red]error:[/] {Markup.Escape(message)}\n"));
}

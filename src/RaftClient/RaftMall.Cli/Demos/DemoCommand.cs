using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using RaftMall.Cli.Commands;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Demos;

/// <summary>raftmall demo failover: orders under load, kill -9 of the leader, restart, and a verdict on what survived.</summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var demo = new Command("demo", "Demonstrations on the local cluster");
        var clients = new Option<int>("--clients") { Description = "Concurrent clients placing orders", DefaultValueFactory = _ => 8 };
        var duration = new Option<int>("--duration") { Description = "Seconds of load in all", DefaultValueFactory = _ => 12 };
        var killAfter = new Option<int>("--kill-after") { Description = "Seconds of load before the leader is killed", DefaultValueFactory = _ => 4 };
        var restartAfter = new Option<int>("--restart-after") { Description = "Seconds after the kill when the old leader is restarted", DefaultValueFactory = _ => 4 };
        var failover = new Command("failover", "Place orders from concurrent clients, kill -9 the leader partway, restart it, and check that nothing acknowledged was lost")
        {
            clients, duration, killAfter, restartAfter,
        };
        failover.SetRun(async (ctx, token) =>
        {
            var settings = new FailoverDemo.Settings(
                Math.Clamp(ctx.Parse.GetValue(clients), 1, 256),
                TimeSpan.FromSeconds(Math.Clamp(ctx.Parse.GetValue(duration), 3, 3600)),
                TimeSpan.FromSeconds(Math.Max(1, ctx.Parse.GetValue(killAfter))),
                TimeSpan.FromSeconds(Math.Max(1, ctx.Parse.GetValue(restartAfter))));
            if (settings.KillAfter >= settings.Duration) throw new CliException(ExitCodes.Usage, "--kill-after must be less than --duration");
            var report = await new FailoverDemo(ctx, settings).RunAsync(token);
            ctx.Output(report, () => report.Render());
            return report.Ok ? ExitCodes.Ok : ExitCodes.VerdictFailed;
        });
        demo.Add(failover);
        demo.Add(TxnDemo.Build());
        demo.Add(MessagesDemo.Build());
        demo.Add(DashboardDemoCommand.Build());
        return demo;
    }
}

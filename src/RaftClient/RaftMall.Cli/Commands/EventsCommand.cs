using System.CommandLine;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall events: read and follow the replicated outbox.</summary>
public static class EventsCommand
{
    public static Command Build()
    {
        var events = new Command("events", "Read the replicated outbox of domain events");
        var after = new Option<long>("--after") { Description = "Start after this sequence number" };
        var follow = new Option<bool>("--no-follow") { Description = "Print what is there and stop instead of following" };
        var tail = new Command("tail", "Print events and follow new ones as they commit (Ctrl+C to stop)") { after, follow };
        tail.SetRun(async (ctx, ct) =>
        {
            var position = ctx.Parse.GetValue(after);
            var once = ctx.Parse.GetValue(follow);
            while (!ct.IsCancellationRequested)
            {
                var page = await ctx.Client.ReadEventsAsync(position, 500, once ? 0 : 10, ct);
                foreach (var e in page.Events)
                {
                    if (ctx.Json) Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(e, ContractJsonContext.Default.MallEvent));
                    else CliContext.Info($"[grey]{e.Sequence,6} {e.At:HH:mm:ss.fff}[/] [bold]{e.Type}[/] {Markup.Escape(DataOptions.Describe(e))}");
                    position = e.Sequence;
                }
                if (once && page.Events.Length == 0) break;
            }
            return ExitCodes.Ok;
        });
        events.Add(tail);
        return events;
    }
}

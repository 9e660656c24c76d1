using System.CommandLine;
using System.Text.Json;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall events: read and follow the replicated outbox, publish messages, and keep consumer positions.</summary>
public static class EventsCommand
{
    public static Command Build()
    {
        var events = new Command("events", "Read the replicated outbox of domain events and messages; pull consumers with a committed position");
        events.Add(Tail());
        events.Add(Publish());
        events.Add(Consumer());
        return events;
    }

    private static Command Tail()
    {
        var after = new Option<long?>("--after") { Description = "Start after this sequence number (with --consumer: instead of its committed position)" };
        var follow = new Option<bool>("--no-follow") { Description = "Print what is there and stop instead of following" };
        var consumer = new Option<string?>("--consumer")
        {
            Description = "Read as this pull consumer: resume after its committed position and acknowledge each page once printed",
        };
        var tail = new Command("tail", "Print events and follow new ones as they commit (Ctrl+C to stop)") { after, follow, consumer };
        tail.SetRun(async (ctx, ct) =>
        {
            var name = ctx.Parse.GetValue(consumer);
            var position = ctx.Parse.GetValue(after);
            var once = ctx.Parse.GetValue(follow);
            while (!ct.IsCancellationRequested)
            {
                var wait = once ? 0 : 10;
                var page = name is null
                    ? await ctx.Client.ReadEventsAsync(position ?? 0, 500, wait, ct)
                    : await ctx.Client.ReadConsumerEventsAsync(name, 500, wait, position, ct);
                if (name is null && position is > 0 && page.FirstRetainedSequence > position + 1)
                {
                    // The plain tail keeps no position in the cluster; it still says what it missed instead of skipping it silently.
                    CommandRunner.Error($"events {position + 1}..{page.FirstRetainedSequence - 1} were trimmed from the outbox before they were read");
                }
                foreach (var e in page.Events) Print(ctx, e);
                if (page.Events.Length > 0)
                {
                    position = page.Events[^1].Sequence;
                    if (name is not null) await ctx.Client.AckConsumerAsync(name, position.Value, token: ct);
                }
                if (once && page.Events.Length == 0) break;
            }
            return ExitCodes.Ok;
        });
        return tail;
    }

    private static Command Publish()
    {
        var topic = new Argument<string>("topic") { Description = "The message's topic (letters, digits and - _ . : @ ~)" };
        var payload = new Argument<string>("payload") { Description = "The payload: any JSON value, at most 2,048 characters" };
        var key = new Option<string?>("--key") { Description = "An optional key of the application's own" };
        var publish = new Command("publish", "Commit an application message (a message event for pull consumers)") { topic, payload, key };
        publish.SetRun(async (ctx, ct) =>
        {
            JsonElement json;
            try
            {
                using var document = JsonDocument.Parse(ctx.Parse.GetValue(payload)!);
                json = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new CliException(ExitCodes.Usage, $"the payload is not JSON: {e.Message}");
            }
            var message = await ctx.Client.PublishAsync(ctx.Parse.GetValue(topic)!, ctx.Parse.GetValue(key), json, token: ct);
            ctx.Output(message, () => CliContext.Info($"[green]published[/] {message.Id} (sequence {message.Sequence}) on {Markup.Escape(message.Topic)}"));
            return ExitCodes.Ok;
        });
        return publish;
    }

    private static Command Consumer()
    {
        var name = new Argument<string>("name") { Description = "The consumer's name" };
        var move = new Option<long?>("--move-to") { Description = "Set the position to this sequence (admin): replay, or skip trimmed events knowingly" };
        var command = new Command("consumer", "Show a pull consumer's committed position, lag and missed events; --move-to sets it") { name, move };
        command.SetRun(async (ctx, ct) =>
        {
            var consumer = ctx.Parse.GetValue(name)!;
            var view = ctx.Parse.GetValue(move) is { } sequence
                ? await ctx.Client.MoveConsumerAsync(consumer, sequence, token: ct)
                : await ctx.Client.GetConsumerAsync(consumer, DataOptions.Consistency(ctx), ct);
            ctx.Output(view, () =>
            {
                CliContext.Info($"[bold]{Markup.Escape(view.Name)}[/] at {view.Sequence} (updated {view.UpdatedAt:u}), lag {view.Lag}, newest {view.LastSequence}");
                if (view.MissedEvents > 0)
                {
                    CommandRunner.Error($"{view.MissedEvents} events after its position were trimmed before it read them; move it past them with --move-to {view.FirstRetainedSequence - 1}");
                }
            });
            return view.MissedEvents > 0 ? ExitCodes.VerdictFailed : ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(CliContext ctx, MallEvent e)
    {
        if (ctx.Json) Console.Out.WriteLine(JsonSerializer.Serialize(e, ContractJsonContext.Default.MallEvent));
        else CliContext.Info($"[grey]{e.Sequence,6} {e.At:HH:mm:ss.fff}[/] [bold]{e.Type}[/] {Markup.Escape(DataOptions.Describe(e))}");
    }
}

using System.CommandLine;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall subscription add|list|show|remove|retry|resume: push subscriptions (admin key).</summary>
public static class SubscriptionCommand
{
    public static Command Build()
    {
        var subscription = new Command("subscription", "Push subscriptions: the leader POSTs matching events to an HTTP endpoint in order, at least once, in batches");
        subscription.Add(Add());
        subscription.Add(List());
        subscription.Add(Show());
        subscription.Add(Remove());
        subscription.Add(Retry());
        subscription.Add(Resume());
        return subscription;
    }

    private static Argument<string> Name() => new("name") { Description = "The subscription's name (letters, digits and - _ . : @ ~)" };

    private static Command Add()
    {
        var name = Name();
        var endpoint = new Argument<string>("endpoint") { Description = "The http(s) URL the leader POSTs each batch to (a JSON array of events)" };
        var topics = new Option<string[]>("--topic") { Description = "A message topic to deliver (repeat for more)", AllowMultipleArgumentsPerToken = true };
        var types = new Option<string[]>("--type") { Description = "An event type to deliver: message (every message), orderPlaced, stockSet, ... (repeat for more)", AllowMultipleArgumentsPerToken = true };
        var timeout = new Option<int?>("--timeout-ms") { Description = "Deadline of one delivery call, 10..60000 (default 5000)" };
        var batch = new Option<int?>("--batch-size") { Description = "Most events in one call, 1..1000 (default 100)" };
        var attempts = new Option<int?>("--max-attempts") { Description = "Failed attempts before it is marked stuck (still retried), default 10" };
        var startAfter = new Option<long?>("--start-after") { Description = "Deliver the events after this sequence (default: only events committed from now on)" };
        var add = new Command("add", "Create a push subscription (the same settings again change nothing)") { name, endpoint, topics, types, timeout, batch, attempts, startAfter };
        add.SetRun(async (ctx, ct) =>
        {
            var request = new Contract.SubscriptionRequest(ctx.Parse.GetValue(name), ctx.Parse.GetValue(endpoint), ctx.Parse.GetValue(topics), ctx.Parse.GetValue(types),
                ctx.Parse.GetValue(timeout), ctx.Parse.GetValue(batch), ctx.Parse.GetValue(attempts), ctx.Parse.GetValue(startAfter));
            var view = await ctx.Client.CreateSubscriptionAsync(request, token: ct);
            ctx.Output(view, () => CliContext.Info($"[green]subscribed[/] {Markup.Escape(view.Name)} -> {Markup.Escape(view.Endpoint)} after sequence {view.Position}"));
            return ExitCodes.Ok;
        });
        return add;
    }

    private static Command List()
    {
        var list = new Command("list", "List the subscriptions: state (active, stuck, suspended), position, lag, attempts, last error; exits 4 when one is stuck or suspended")
        {
            DataOptions.Local,
        };
        list.SetRun(async (ctx, ct) =>
        {
            var all = await ctx.Client.ListSubscriptionsAsync(DataOptions.Consistency(ctx), ct);
            ctx.Output(all, () => Render(all));
            return Array.Exists(all, s => s.State != "active") ? ExitCodes.VerdictFailed : ExitCodes.Ok;
        });
        return list;
    }

    private static Command Show()
    {
        var name = Name();
        var show = new Command("show", "Show one subscription; exits 4 when it is stuck or suspended") { name, DataOptions.Local };
        show.SetRun(async (ctx, ct) =>
        {
            var view = await ctx.Client.GetSubscriptionAsync(ctx.Parse.GetValue(name)!, DataOptions.Consistency(ctx), ct);
            ctx.Output(view, () => Render([view]));
            return view.State == "active" ? ExitCodes.Ok : ExitCodes.VerdictFailed;
        });
        return show;
    }

    private static Command Remove()
    {
        var name = Name();
        var remove = new Command("remove", "Drop a subscription and its position (an operator's decision for a suspended one too)") { name };
        remove.SetRun(async (ctx, ct) =>
        {
            var view = await ctx.Client.DeleteSubscriptionAsync(ctx.Parse.GetValue(name)!, token: ct);
            ctx.Output(view, () => CliContext.Info($"removed {Markup.Escape(view.Name)} (it was at sequence {view.Position}, {view.State})"));
            return ExitCodes.Ok;
        });
        return remove;
    }

    private static Command Retry()
    {
        var name = Name();
        var retry = new Command("retry", "Call a stuck subscription again now: its attempts and stuck flag are cleared") { name };
        retry.SetRun(async (ctx, ct) =>
        {
            var view = await ctx.Client.RetrySubscriptionAsync(ctx.Parse.GetValue(name)!, token: ct);
            ctx.Output(view, () => CliContext.Info($"retrying {Markup.Escape(view.Name)} from sequence {view.Position}"));
            return ExitCodes.Ok;
        });
        return retry;
    }

    private static Command Resume()
    {
        var name = Name();
        var position = new Argument<long>("position") { Description = "Deliver the events after this sequence (a suspended one: at least the oldest kept event minus one)" };
        var resume = new Command("resume", "Resume a subscription from a position: a suspended one knowingly past the events it lost, or any one to replay") { name, position };
        resume.SetRun(async (ctx, ct) =>
        {
            var view = await ctx.Client.ResumeSubscriptionAsync(ctx.Parse.GetValue(name)!, ctx.Parse.GetValue(position), token: ct);
            ctx.Output(view, () => CliContext.Info($"resumed {Markup.Escape(view.Name)} after sequence {view.Position}"));
            return ExitCodes.Ok;
        });
        return resume;
    }

    private static void Render(Contract.Subscription[] subscriptions)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "state", "position", "lag", "attempts", "endpoint", "matches", "last error");
        foreach (var s in subscriptions)
        {
            var state = s.State switch
            {
                "suspended" => $"[bold red]suspended[/] (lost {s.SuspendedAtSequence}..)",
                "stuck" => "[bold yellow]stuck[/]",
                _ => "[green]active[/]",
            };
            table.AddRow(Markup.Escape(s.Name), state, s.Position.ToString(System.Globalization.CultureInfo.InvariantCulture),
                s.Lag.ToString(System.Globalization.CultureInfo.InvariantCulture), s.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(s.Endpoint), Markup.Escape(string.Join(' ', s.Topics.Concat(s.EventTypes))), Markup.Escape(s.LastError ?? "-"));
        }
        AnsiConsole.Write(table);
        foreach (var s in subscriptions.Where(s => s.State == "suspended"))
        {
            CommandRunner.Error($"{s.Name} is suspended: the outbox dropped event {s.SuspendedAtSequence} before it was acknowledged; "
                + $"raftmall subscription resume {s.Name} {s.FirstRetainedSequence - 1} (skipping what was lost) or raftmall subscription remove {s.Name}");
        }
    }
}

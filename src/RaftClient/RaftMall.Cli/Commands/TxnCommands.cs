using System.CommandLine;
using System.Text.Json;
using RaftMall.Client;
using Spectre.Console;

namespace RaftMall.Cli.Commands;

/// <summary>raftmall txn begin|show|list|retry: global transactions from the command line.</summary>
public static class TxnCommands
{

    public static Command Build()
    {
        var txn = new Command("txn", "Begin, show, list and retry global transactions (tcc, 2pc, saga)");
        var gid = new Argument<string>("gid") { Description = "The transaction id" };

        var body = new Argument<string>("request")
        {
            Description = "The transaction as JSON, or @file with it: {\"gid\"?,\"mode\":\"tcc|2pc|saga\",\"timeoutMs\"?,\"branches\":[...]} (see docs/api.md)",
        };
        var wait = new Option<string>("--wait", "-w") { Description = "Answer when the transaction is begun (none), decided or finished", DefaultValueFactory = _ => "decided" };
        wait.AcceptOnlyFromAmong("none", "decided", "finished");
        var key = new Option<string?>("--idempotency-key", "-k") { Description = "Idempotency-Key for this write (default: a fresh one)" };
        var begin = new Command("begin", "Begin a transaction and wait for its decision (or --wait finished / none)") { body, wait, key };
        begin.SetRun(async (ctx, ct) =>
        {
            var request = ParseRequest(ctx.Parse.GetValue(body)!);
            var answer = await ctx.Client.BeginTransactionAsync(request, Enum.Parse<TransactionWait>(ctx.Parse.GetValue(wait)!, ignoreCase: true), ctx.Parse.GetValue(key), ct);
            ctx.Output(answer, () => Render(answer));
            return ExitCodes.Ok;
        });

        var show = new Command("show", "Show a transaction: status, decision, every branch's state, attempts and last error") { gid };
        show.SetRun(async (ctx, ct) =>
        {
            var found = await ctx.Client.GetTransactionAsync(ctx.Parse.GetValue(gid)!, token: ct);
            ctx.Output(found, () => Render(found));
            return ExitCodes.Ok;
        });

        var status = new Option<string?>("--status", "-s") { Description = "Only transactions in this status" };
        status.AcceptOnlyFromAmong("open", "committing", "aborting", "committed", "aborted");
        var stuck = new Option<bool>("--stuck") { Description = "Only transactions with a stuck phase-2 branch" };
        var after = new Option<string?>("--after") { Description = "Start after this gid (for paging)" };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many (1..1000)", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "List transactions by gid") { status, stuck, after, limit };
        list.SetRun(async (ctx, ct) =>
        {
            var page = await ctx.Client.ListTransactionsAsync(ctx.Parse.GetValue(status), ctx.Parse.GetValue(stuck), ctx.Parse.GetValue(after), ctx.Parse.GetValue(limit), token: ct);
            ctx.Output(page, () =>
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumns("gid", "mode", "status", "decision", "branches", "stuck");
                foreach (var t in page.Transactions)
                {
                    table.AddRow(Markup.Escape(t.Gid), t.Mode, t.Status, Markup.Escape(t.Decision ?? "-"), t.Branches.Length.ToString(),
                        string.Join(", ", t.Branches.Where(b => b.Stuck).Select(b => Markup.Escape(b.BranchId))));
                }
                AnsiConsole.Write(table);
                if (page.NextAfter is { } next) CliContext.Info($"[grey]more: --after {Markup.Escape(next)}[/]");
            });
            return ExitCodes.Ok;
        });

        var retry = new Command("retry", "Call a decided transaction's outstanding phase-2 branches again now (operator)") { gid, key };
        retry.SetRun(async (ctx, ct) =>
        {
            var retried = await ctx.Client.RetryTransactionAsync(ctx.Parse.GetValue(gid)!, ctx.Parse.GetValue(key), ct);
            ctx.Output(retried, () => Render(retried));
            return ExitCodes.Ok;
        });

        foreach (var c in new[] { begin, show, list, retry }) txn.Add(c);
        return txn;
    }

    private static TransactionRequest ParseRequest(string text)
    {
        if (text.StartsWith('@'))
        {
            var path = text[1..];
            if (!File.Exists(path)) throw new CliException(ExitCodes.Usage, $"request file {path} does not exist");
            text = File.ReadAllText(path);
        }
        try
        {
            return JsonSerializer.Deserialize(text, ContractJsonContext.Default.TransactionRequest)
                ?? throw new CliException(ExitCodes.Usage, "the request is JSON null");
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.Usage, $"the request is not valid JSON for a transaction: {e.Message}");
        }
    }

    private static void Render(GlobalTransaction t)
    {
        var color = t.Status switch { "committed" => "green", "aborted" => "yellow", _ => "blue" };
        CliContext.Info($"[bold]{Markup.Escape(t.Gid)}[/] {t.Mode} [{color}]{t.Status}[/]"
            + (t.Decision is null ? "" : $" decision [bold]{t.Decision}[/]: {Markup.Escape(t.Reason ?? "")}") + $" [grey](deadline {t.Deadline:u})[/]");
        var table = new Table().Border(TableBorder.Rounded).AddColumns("branch", "kind", "state", "attempts", "stuck", "last error");
        foreach (var b in t.Branches)
        {
            table.AddRow(Markup.Escape(b.BranchId), b.Kind, b.State, b.Attempts.ToString(), b.Stuck ? "[red]stuck[/]" : "", Markup.Escape(b.LastError ?? ""));
        }
        AnsiConsole.Write(table);
    }
}

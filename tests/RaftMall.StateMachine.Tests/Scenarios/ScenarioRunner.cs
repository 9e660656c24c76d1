using System.Globalization;
using System.Text;
using RaftMall.StateMachine.Codec;

namespace RaftMall.StateMachine.Tests.Scenarios;

/// <summary>
/// Runs a scenario file: one step a line, optionally followed by <c>=&gt; expected</c>. Every command goes through
/// the codec (encode, decode) before it is applied, and every step is followed by a full invariant check.
/// The grammar is in testdata/README.txt.
/// </summary>
public sealed class ScenarioRunner
{
    private MallStateMachine _state = new(retainedEvents: 64);
    private long _timeMs;

    public void Run(string path)
    {
        var lineNumber = 0;
        foreach (var rawLine in File.ReadLines(path))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split("=>", 2, StringSplitOptions.TrimEntries);
            string actual;
            try
            {
                actual = Step(parts[0]);
                _state.CheckInvariants();
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"{Path.GetFileName(path)}:{lineNumber}: `{parts[0]}` threw {e.GetType().Name}: {e.Message}");
            }
            if (parts.Length == 2 && !string.Equals(parts[1], actual, StringComparison.Ordinal))
            {
                throw new Xunit.Sdk.XunitException(
                    $"{Path.GetFileName(path)}:{lineNumber}: `{parts[0]}`\n  expected: {parts[1]}\n  actual:   {actual}");
            }
        }
    }

    private string Step(string text)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words[0] == "at")
        {
            _timeMs = Long(words[1]);
            return "";
        }
        if (words[0] == "?") return Query(words[1..]);
        if (words[0] == "restart") return Restart();

        string? key = null;
        if (words[0].StartsWith("key=", StringComparison.Ordinal))
        {
            key = words[0]["key=".Length..];
            words = words[1..];
        }
        var command = Parse(words) with { TimeMs = _timeMs, IdempotencyKey = key };
        var decoded = CommandCodec.Decode(CommandCodec.Encode(command));
        return Format(_state.Apply(decoded));
    }

    private static MallCommand Parse(string[] w) => w[0] switch
    {
        "stock" => new SetStock(w[1], Long(w[2])),
        "token" => new IssueToken(w[1], w[2], Long(w[3])),
        "place" => new PlaceOrder(w[1], w[2] == "-" ? null : w[2], Items(w[3]), Option(w, "ttl") ?? 60_000),
        "pay" => new PayOrder(Long(w[1])),
        "cancel" => new CancelOrder(Long(w[1])),
        "expire" => new ExpireDue(),
        "put" => new KvPut(w[1], w[2], Option(w, "if")),
        "del" => new KvDelete(w[1], Option(w, "if")),
        "begin" => new BeginTransaction(w[1], Mode(w[2]), Long(w[3]), w.Length > 4 ? [.. w[4].Split(',').Select(b => Branch(b, Mode(w[2])))] : []),
        "register" => new RegisterBranch(w[1], Branch(w[2], TransactionMode.Tcc)),
        "vote" => new RecordVote(w[1], w[2], w[3] == "yes" ? Vote.Yes : Vote.No),
        "decide" => new DecideTransaction(w[1], Decide(w[2]), w.Length > 3 && !w[3].StartsWith("votes=", StringComparison.Ordinal) ? w[3] : "test",
            w.FirstOrDefault(x => x.StartsWith("votes=", StringComparison.Ordinal)) is { } votes ? [.. votes[6..].Split(',').Select(VoteOf)] : []),
        "ack" => new RecordPhaseTwo([.. w[2..].Select(p => Progress(p, Decide(w[1]), done: true, 1, "", stuck: false))]),
        "fail" => new RecordPhaseTwo([Progress(w[2], Decide(w[1]), done: false, (int)Long(w[3]), w[^1], stuck: w.Contains("stuck"))]),
        "retry" => new RetryTransaction(w[1]),
        "barrier" => new TccBarrier(w[2], w[3], w[1] switch
        {
            "try" => BarrierOperation.Try,
            "confirm" => BarrierOperation.Confirm,
            "cancel" => BarrierOperation.Cancel,
            _ => throw new FormatException($"unknown barrier operation {w[1]}"),
        }),
        "publish" => new PublishMessage(w[1], w[2] == "-" ? null : w[2], w[3]),
        "place-msg" => new PlaceOrderWithMessage(w[1], w[2] == "-" ? null : w[2], Items(w[3]), 60_000, w[4], w[5] == "-" ? null : w[5], w[6]),
        "consumer-ack" => new AckConsumer(w[1], Long(w[2])),
        "consumer-move" => new MoveConsumer(w[1], Long(w[2])),
        "consumer-delete" => new DeleteConsumer(w[1]),
        _ => throw new FormatException($"unknown step {w[0]}"),
    };

    private string Query(string[] w) => w[0] switch
    {
        "stock" => _state.GetStock(w[1]) is { } s ? Format(new StockResult(s)) : "none",
        "order" => _state.GetOrder(Long(w[1])) is { } o ? Format(new OrderResult(o)) : "none",
        "orders" => string.Join(' ', _state.ListOrders(w.Length > 1 && w[1] != "-" ? w[1] : null,
            w.Length > 2 && OrderStatusNames.TryParse(w[2], out var st) ? st : null, 0, 100).Select(o => $"{o.OrderId}:{OrderStatusNames.Name(o.Status)}")),
        "kv" => _state.GetKv(w[1]) is { } e ? Format(new KvResult(e)) : "none",
        "txn" => _state.GetTransaction(w[1]) is { } t ? Format(new TransactionResult(t)) : "none",
        "barrier" => _state.GetBarrier(w[1], w[2])?.ToString() ?? "none",
        "events" => string.Join(' ', _state.ReadEvents(Long(w[1]), 100).Select(FormatEvent)),
        "token-used" => _state.IsTokenUsed(w[1]) ? "used" : "unused",
        "keys" => _state.IdempotencyKeyCount.ToString(CultureInfo.InvariantCulture),
        "consumer" => _state.GetConsumer(w[1]) is { } c ? Format(new ConsumerResult(c)) : "none",
        "consumers" => string.Join(' ', _state.ListConsumers().Select(c => $"{c.Name}@{c.Sequence}")),
        "retained" => $"first={_state.FirstRetainedEventSequence} last={_state.LastEventSequence}",
        _ => throw new FormatException($"unknown query {w[0]}"),
    };

    /// <summary>Snapshot, restore into a fresh instance, and insist the restored one writes the same bytes.</summary>
    private string Restart()
    {
        var before = _state.Snapshot();
        var restored = MallStateMachine.Restore(before, retainedEvents: 64);
        if (!before.AsSpan().SequenceEqual(restored.Snapshot())) throw new Xunit.Sdk.XunitException("restored state writes a different snapshot");
        _state = restored;
        return $"restored {before.Length} bytes";
    }

    public static string Format(MallResult result) => result switch
    {
        Rejected r => $"error {r.CodeName}",
        StockResult r => $"stock {r.Stock.Sku} available={r.Stock.Available} locked={r.Stock.Locked} sold={r.Stock.Sold}",
        TokenResult r => $"token {r.Token} user={r.UserId} expires={r.ExpiresAtMs}",
        OrderResult r => $"order {r.Order.OrderId} {OrderStatusNames.Name(r.Order.Status)} {string.Join(',', r.Order.Items.Select(i => $"{i.Sku}:{i.Quantity}"))} expires={r.Order.ExpiresAtMs}",
        ExpireResult r => $"expired orders={r.OrdersExpired} txns={r.TransactionsAborted} tokens={r.TokensForgotten}",
        KvResult r => $"kv {r.Entry.Key}={r.Entry.Value} rev={r.Entry.Revision}",
        KvDeleted r => $"deleted {r.Key} rev={r.Revision}",
        TransactionResult r => FormatTransaction(r.Transaction),
        PhaseTwoResult r => $"phase2 acked={r.Acknowledged} failed={r.Failed} finished={r.Finished}",
        BarrierResult r => $"barrier {r.Gid}/{r.BranchId} {r.State} {(r.Effective ? "effective" : "noop")}",
        MessageResult r => FormatEvent(r.Message),
        OrderWithMessageResult r => $"order {r.Order.OrderId} {OrderStatusNames.Name(r.Order.Status)} + {FormatEvent(r.Message)}",
        ConsumerResult r => $"consumer {r.Consumer.Name}@{r.Consumer.Sequence} at={r.Consumer.UpdatedAtMs}",
        SubscriptionResult { Subscription: var s } => $"subscription {s.Name}@{s.Position} gen={s.Generation} attempts={s.Attempts} stuck={s.Stuck} "
            + $"suspendedAt={s.SuspendedAt} error={s.LastError} matches={string.Join(',', s.Spec.Topics.Concat(s.Spec.EventTypes))}",
        SubscriptionProgressResult r => $"subscription progress recorded={r.Recorded} ignored={r.Ignored}",
        _ => throw new FormatException(result.GetType().Name),
    };

    private static string FormatTransaction(GlobalTransaction t)
    {
        var text = new StringBuilder($"txn {t.Gid} {TransactionNames.Status(t.Status)}");
        if (t.IsDecided) text.Append(CultureInfo.InvariantCulture, $" {MallStateMachine.DecisionName(t.Decision)}({t.DecisionReason})");
        foreach (var b in t.Branches)
        {
            text.Append(CultureInfo.InvariantCulture, $" {b.BranchId}={TransactionNames.BranchState(t, b)}");
            if (b.Attempts > 0) text.Append(CultureInfo.InvariantCulture, $"#{b.Attempts}");
            if (b.Stuck) text.Append("!stuck");
        }
        return text.ToString();
    }

    private static string FormatEvent(MallEvent e)
    {
        var text = EventKindNames.Name(e.Kind);
        if (e.OrderId != 0) text += $":{e.OrderId}";
        if (e.Subject is not null) text += $":{e.Subject}";
        if (e.Sku is not null) text += $":{e.Sku}:{e.Quantity}";
        if (e.Kind == EventKind.Message) text = $"message#{e.Sequence}:{e.Subject}:{e.Detail ?? "-"}:{(e.OrderId == 0 ? "-" : e.OrderId)}:{e.Payload}";
        return text;
    }

    private static OrderItem[] Items(string text) =>
        [.. text.Split(',').Select(pair => pair.Split(':')).Select(p => new OrderItem(p[0], int.Parse(p[1], CultureInfo.InvariantCulture)))];

    // b1 is an http branch; s1=stock:apple:2 a stock branch; o1=order:alice:apple:1+pear:2 an order branch.
    private static BranchSpec Branch(string text, TransactionMode mode)
    {
        var parts = text.Split('=', 2);
        if (parts.Length == 1)
        {
            return BranchSpec.Http(text, $"http://p/{text}/1", mode == TransactionMode.Saga ? "" : $"http://p/{text}/2", $"http://p/{text}/3");
        }
        var spec = parts[1].Split(':', 3);
        return spec[0] switch
        {
            "stock" => BranchSpec.Stock(parts[0], spec[1], int.Parse(spec[2], CultureInfo.InvariantCulture)),
            "order" => BranchSpec.Order(parts[0], spec[1], Items(spec[2].Replace('+', ','))),
            _ => throw new FormatException($"unknown branch kind {spec[0]}"),
        };
    }

    // b1:yes, b2:no (unknown outcome), b3:no! (a definite refusal)
    private static BranchVote VoteOf(string text)
    {
        var parts = text.Split(':');
        return new BranchVote(parts[0], parts[1] == "yes" ? Vote.Yes : Vote.No, parts[1] == "no!", 1, parts[1] == "yes" ? "" : "refused");
    }

    private static BranchProgress Progress(string gidSlashBranch, Decision phase, bool done, int attempts, string error, bool stuck)
    {
        var parts = gidSlashBranch.Split('/');
        return new BranchProgress(parts[0], parts[1], phase, done, attempts, error, stuck);
    }

    private static Decision Decide(string text) => text switch
    {
        "commit" => Decision.Commit,
        "abort" => Decision.Abort,
        "none" => Decision.None,
        _ => throw new FormatException($"unknown decision {text}"),
    };

    private static long? Option(string[] words, string name)
    {
        var prefix = name + "=";
        var word = words.FirstOrDefault(w => w.StartsWith(prefix, StringComparison.Ordinal));
        return word is null ? null : Long(word[prefix.Length..]);
    }

    private static TransactionMode Mode(string text) => text switch
    {
        "tcc" => TransactionMode.Tcc,
        "2pc" => TransactionMode.TwoPhase,
        "saga" => TransactionMode.Saga,
        _ => throw new FormatException($"unknown mode {text}"),
    };

    private static long Long(string text) => long.Parse(text, CultureInfo.InvariantCulture);
}

using System.Diagnostics;
using BenchmarkDotNet.Running;
using RaftMall.StateMachine;
using RaftMall.StateMachine.Benchmarks;

// `memory` prints bytes per order and one timed snapshot/restore; `snapshot-kv` the time to write a kv-heavy snapshot;
// `wal` the cost of one durable append; anything else goes to BenchmarkDotNet
// (e.g. `--filter '*' --job short`).
if (args is ["memory", ..])
{
    var orders = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var state = Workloads.StateWithOrders(orders);
    var after = GC.GetTotalMemory(forceFullCollection: true);
    Console.WriteLine($"orders: {state.OrderCount:N0}, tokens: {state.TokenCount:N0}, events retained: {state.LastEventSequence - state.FirstRetainedEventSequence + 1:N0}");
    Console.WriteLine($"managed memory for the state: {(after - before) / 1024.0 / 1024.0:F1} MiB, {(double)(after - before) / orders:F0} bytes per order (all tables included)");
    var clock = Stopwatch.StartNew();
    var snapshot = state.Snapshot();
    Console.WriteLine($"snapshot: {snapshot.Length / 1024.0 / 1024.0:F1} MiB in {clock.ElapsedMilliseconds} ms ({(double)snapshot.Length / orders:F1} bytes per order)");
    clock.Restart();
    var restored = MallStateMachine.Restore(snapshot);
    Console.WriteLine($"restore: {clock.ElapsedMilliseconds} ms, {restored.OrderCount:N0} orders");
    GC.KeepAlive(state);
    return;
}
if (args is ["snapshot-kv", ..])
{
    // The snapshot a node takes under kv load: N keys of 256-byte values; how long writing it takes, and its checksum alone.
    var keys = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
    var state = new MallStateMachine();
    var value = new string('v', 256);
    for (var i = 0; i < keys; i++) state.Apply(new KvPut($"bench-{i}", value, null));
    var buffer = new RaftMall.StateMachine.Codec.ByteWriter(1024 * 1024);
    for (var round = 1; round <= 5; round++)
    {
        var clock = Stopwatch.StartNew();
        state.WriteSnapshot(buffer);
        var writeMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var hash = MallStateMachine.Checksum(MallStateMachine.SnapshotVersion, buffer.WrittenSpan);
        Console.WriteLine($"round {round}: {buffer.Length / 1024.0 / 1024.0:F1} MiB written in {writeMs:F0} ms; the checksum alone takes {clock.Elapsed.TotalMilliseconds:F0} ms ({hash & 1})");
    }
    return;
}
if (args is ["wal", ..])
{
    await WalProbe.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2_000);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Workloads).Assembly).Run(args);

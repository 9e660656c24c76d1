using System.Diagnostics;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Win32.SafeHandles;

namespace RaftMall.StateMachine.Benchmarks;

/// <summary>
/// `wal [appends]`: what one durable append costs on this disk — a plain write + fsync of 300 bytes, against
/// DotNext's WriteAheadLog append + FlushAsync (the flush a RaftMall node waits for, on the leader and on each
/// follower, before a write counts). Single-threaded, one entry at a time, like a single client.
/// </summary>
public static class WalProbe
{
    public static async Task RunAsync(int appends)
    {
        var directory = Directory.CreateTempSubdirectory("raftmall-walprobe-");
        try
        {
            var payload = new byte[300];
            Random.Shared.NextBytes(payload);
            Report("write + fsync (plain file, in place)", PlainFile(Path.Combine(directory.FullName, "plain"), payload, appends));
            Report("DotNext WAL append + FlushAsync", await DotNextWalAsync(Path.Combine(directory.FullName, "wal"), payload, appends, WriteAheadLog.MemoryManagementStrategy.SharedMemory, noBuffering: false));
            Report("  same, PrivateMemory", await DotNextWalAsync(Path.Combine(directory.FullName, "wal-private"), payload, appends, WriteAheadLog.MemoryManagementStrategy.PrivateMemory, noBuffering: false));
            Report("  same, PrivateMemory + NoBuffering", await DotNextWalAsync(Path.Combine(directory.FullName, "wal-direct"), payload, appends, WriteAheadLog.MemoryManagementStrategy.PrivateMemory, noBuffering: true));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static List<double> PlainFile(string path, byte[] payload, int appends)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.Read, FileOptions.None);
        // Written and synced once up front, so that the measured fsyncs carry data only, not file-size metadata.
        var zeros = new byte[1 << 20];
        for (long at = 0; at < (long)appends * payload.Length + zeros.Length; at += zeros.Length) RandomAccess.Write(handle, zeros, at);
        RandomAccess.FlushToDisk(handle);
        var times = new List<double>(appends);
        long offset = 0;
        for (var i = 0; i < appends; i++)
        {
            var started = Stopwatch.GetTimestamp();
            RandomAccess.Write(handle, payload, offset);
            RandomAccess.FlushToDisk(handle);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            offset += payload.Length;
        }
        return times;
    }

    private static async Task<List<double>> DotNextWalAsync(string path, byte[] payload, int appends, WriteAheadLog.MemoryManagementStrategy memory, bool noBuffering)
    {
        var options = new WriteAheadLog.Options { Location = path, ChunkSize = 8 << 20, MemoryManagement = memory, NoBuffering = noBuffering };
        await using var wal = new WriteAheadLog(options, IStateMachine.CreateNoOp(long.MaxValue));
        var times = new List<double>(appends);
        for (var i = 0; i < appends; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await wal.AppendAsync(new BinaryLogEntry { Content = payload, Term = 1 }, CancellationToken.None);
            await wal.FlushAsync(CancellationToken.None);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return times;
    }

    private static void Report(string name, List<double> times)
    {
        times.Sort();
        double At(double q) => times[Math.Clamp((int)Math.Ceiling(q * times.Count) - 1, 0, times.Count - 1)];
        Console.WriteLine($"{name,-34} p50 {At(0.5):0.000} ms  p90 {At(0.9):0.000} ms  p99 {At(0.99):0.000} ms  ({times.Count} appends)");
    }
}

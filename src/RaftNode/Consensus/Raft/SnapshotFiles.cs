using RaftMall.StateMachine;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// Keeps the snapshot directory restorable across crashes, before DotNext reads it.
/// </summary>
/// <remarks>
/// DotNext 6.12's <c>SimpleStateMachine</c> names snapshots <c>index-term</c> and restores the one with the highest
/// index. It writes each one to a temporary file, flushes it and moves it into place, but two paths can still leave a
/// torn file under a final name:
/// <list type="bullet">
/// <item>A snapshot installed by the leader is moved into place in a <c>finally</c> block, so a transfer cut off by a
/// dropped connection or a killed leader commits the bytes received so far. The install failed, so the log was not
/// compacted past it, but the next restart picks the torn file as the newest and cannot start
/// (found by <c>raftmall verify --nemesis all --seed 777</c>: a 7,509-byte <c>4190-14</c> beside an intact
/// 974,029-byte <c>3660-12</c>; the file is preallocated to the full length, so a torn one may have the right size
/// and a zero tail).</item>
/// <item>The temporary file lives in <see cref="Path.GetTempPath"/>; when that is another file system (a container's
/// <c>/tmp</c> with the data on a volume), the move is a copy that a crash can cut short.</item>
/// </list>
/// So the node points the temporary directory at its data directory (the move becomes an atomic rename), and at startup
/// sets aside every snapshot whose frame or checksum does not hold, newest first, into <c>torn-snapshots/</c>. That is
/// safe because a snapshot becomes the one DotNext compacts the log behind only after it was written whole: a torn file
/// was never installed, so the older snapshot and the log still hold everything.
/// </remarks>
public static partial class SnapshotFiles
{
    /// <summary>Makes DotNext's temporary snapshot files land on the data directory's file system, emptied of leftovers.</summary>
    public static void UseTemporaryDirectoryBeside(NodeSettings settings)
    {
        var temp = Path.Combine(settings.DataDirectory, "tmp");
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); // a crash leaves half-written temporaries
        Directory.CreateDirectory(temp);
        Environment.SetEnvironmentVariable("TMPDIR", temp); // read by Path.GetTempPath on every call
    }

    /// <summary>Moves torn snapshots aside, newest first, until the newest left is intact (or none is left).</summary>
    /// <returns>The names of the files set aside.</returns>
    public static IReadOnlyList<string> SetAsideTorn(NodeSettings settings, ILogger logger)
    {
        var directory = new DirectoryInfo(settings.SnapshotDirectory);
        if (!directory.Exists) return [];
        var setAside = new List<string>();
        foreach (var (file, _) in directory.EnumerateFiles("*-*")
                     .Select(f => (File: f, Index: IndexOf(f)))
                     .Where(f => f.Index >= 0)
                     .OrderByDescending(f => f.Index))
        {
            var damage = MallStateMachine.CheckSnapshotFrame(File.ReadAllBytes(file.FullName));
            if (damage is null) break;
            var aside = Path.Combine(settings.DataDirectory, "torn-snapshots");
            Directory.CreateDirectory(aside);
            var (name, bytes) = (file.Name, file.Length); // MoveTo renames the FileInfo too
            var target = Path.Combine(aside, $"{name}.{DateTime.UtcNow:yyyyMMddTHHmmss}");
            file.MoveTo(target, overwrite: true);
            setAside.Add(name);
            LogSetAside(logger, name, bytes, damage, target);
        }

        return setAside;
    }

    private static long IndexOf(FileInfo file) =>
        file.Name.Split('-') is [var index, var term] && long.TryParse(index, System.Globalization.CultureInfo.InvariantCulture, out var i)
            && long.TryParse(term, System.Globalization.CultureInfo.InvariantCulture, out _) ? i : -1;

    [LoggerMessage(Level = LogLevel.Warning, Message = "snapshot {File} ({Bytes} bytes) is torn ({Damage}): moved to {Target}; restoring from the previous snapshot and the log")]
    private static partial void LogSetAside(ILogger logger, string file, long bytes, string damage, string target);
}

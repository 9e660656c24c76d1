using System.Globalization;
using System.Runtime.InteropServices;
using RaftMall.StateMachine;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// The snapshot directory: files named <c>index-term</c>, written whole before they get that name
/// (<see cref="WriteAsync"/>), and kept restorable across crashes.
/// </summary>
/// <remarks>
/// <para>Before RaftMall wrote its own snapshots (<see cref="MallStateHost"/>), DotNext 6.12's <c>SimpleStateMachine</c>
/// did, and two of its paths could leave a torn file under a final name:</para>
/// <list type="bullet">
/// <item>A snapshot installed by the leader was moved into place in a <c>finally</c> block, so a transfer cut off by a
/// dropped connection or a killed leader committed the bytes received so far. The install failed, so the log was not
/// compacted past it, but the next restart picked the torn file as the newest and could not start
/// (found by <c>raftmall verify --nemesis all --seed 777</c>: a 7,509-byte <c>4190-14</c> beside an intact
/// 974,029-byte <c>3660-12</c>; the file is preallocated to the full length, so a torn one may have the right size
/// and a zero tail).</item>
/// <item>The temporary file lived in <see cref="Path.GetTempPath"/>; when that is another file system (a container's
/// <c>/tmp</c> with the data on a volume), the move is a copy that a crash can cut short.</item>
/// </list>
/// <para><see cref="WriteAsync"/> writes beside the final name and renames only flushed (and, for an install, checked)
/// bytes. At startup every snapshot whose frame or checksum does not hold is still set aside, newest first, into
/// <c>torn-snapshots/</c>, for data directories written by older versions. That is safe because a snapshot becomes the
/// one DotNext compacts the log behind only after it was written whole: a torn file was never installed, so the older
/// snapshot and the log still hold everything.</para>
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
        foreach (var (file, _, _) in All(directory).OrderByDescending(s => s.Index))
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

    /// <summary>Every snapshot file in <paramref name="directory"/>: the files named <c>index-term</c>.</summary>
    public static IEnumerable<(FileInfo File, long Index, long Term)> All(DirectoryInfo directory) =>
        directory.Exists
            ? directory.EnumerateFiles("*-*").Select(f => (File: f, Id: Parse(f))).Where(f => f.Id.Index >= 0).Select(f => (f.File, f.Id.Index, f.Id.Term))
            : [];

    /// <summary>
    /// Writes the snapshot of entry <paramref name="index"/> so that it appears whole or not at all: into
    /// <c>partial.index.term</c>, flushed to disk, renamed to <c>index-term</c>, and the directory flushed so that
    /// the rename survives a power cut (the log is compacted behind the snapshot once it is published).
    /// </summary>
    public static async Task<FileInfo> WriteAsync(DirectoryInfo directory, long index, long term, ReadOnlyMemory<byte> bytes, CancellationToken token)
    {
        directory.Create();
        var partial = Path.Combine(directory.FullName, string.Create(CultureInfo.InvariantCulture, $"{PartialPrefix}{index}.{term}"));
        var final = Path.Combine(directory.FullName, string.Create(CultureInfo.InvariantCulture, $"{index}-{term}"));
        try
        {
            using (var handle = File.OpenHandle(partial, FileMode.Create, FileAccess.Write, FileShare.None, FileOptions.Asynchronous, bytes.Length))
            {
                await RandomAccess.WriteAsync(handle, bytes, fileOffset: 0, token).ConfigureAwait(false);
                RandomAccess.FlushToDisk(handle);
            }
            token.ThrowIfCancellationRequested();
            File.Move(partial, final, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
        FlushDirectory(directory.FullName);
        return new FileInfo(final);
    }

    /// <summary>
    /// Marks the snapshot <c>index-term</c> as taken with the log's tail kept past the snapshot before it
    /// (<see cref="MallStateHost"/> publishes that one, so the log still holds the entries between the two). A restart
    /// reads the mark to publish the same: without it (a snapshot installed from a leader, or written by a version
    /// without the tail) the log may hold nothing before the newest snapshot, and the newest is published. Safe in any
    /// crash order: a mark whose snapshot never became whole is never read, and a snapshot whose mark was lost is
    /// published itself, which only shortens the log.
    /// </summary>
    public static void MarkTail(DirectoryInfo directory, long index, long term) =>
        File.Create(TailMarkPath(directory, index, term)).Dispose();

    /// <summary>Whether the snapshot <c>index-term</c> carries the mark of <see cref="MarkTail"/>.</summary>
    public static bool HasTail(DirectoryInfo directory, long index, long term) => File.Exists(TailMarkPath(directory, index, term));

    /// <summary>Deletes the marks of snapshots below <paramref name="below"/> (deleted, or about to be).</summary>
    public static void DeleteTailMarks(DirectoryInfo directory, long below)
    {
        if (!directory.Exists) return;
        foreach (var mark in directory.EnumerateFiles(TailPrefix + "*"))
        {
            if (mark.Name[TailPrefix.Length..].Split('.') is [var index, _] && long.TryParse(index, CultureInfo.InvariantCulture, out var i) && i < below) mark.Delete();
        }
    }

    // Named like the partial files, so that nothing reading the snapshots (named index-term) mistakes a mark for one.
    private const string TailPrefix = "tail.";

    private static string TailMarkPath(DirectoryInfo directory, long index, long term) =>
        Path.Combine(directory.FullName, string.Create(CultureInfo.InvariantCulture, $"{TailPrefix}{index}.{term}"));

    /// <summary>Deletes what a crash left of snapshots being written; they were never published.</summary>
    public static void DeletePartials(DirectoryInfo directory)
    {
        if (!directory.Exists) return;
        foreach (var file in directory.EnumerateFiles(PartialPrefix + "*")) file.Delete();
    }

    private const string PartialPrefix = "partial.";

    private static (long Index, long Term) Parse(FileInfo file) =>
        file.Name.Split('-') is [var index, var term] && long.TryParse(index, CultureInfo.InvariantCulture, out var i)
            && long.TryParse(term, CultureInfo.InvariantCulture, out var t) ? (i, t) : (-1, -1);

    // .NET cannot open a directory as a file; a rename is durable only once its directory is flushed.
    private static void FlushDirectory(string path)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = Open(path, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"cannot open {path} to flush it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"cannot flush {path} (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LoggerMessage(Level = LogLevel.Warning, Message = "snapshot {File} ({Bytes} bytes) is torn ({Damage}): moved to {Target}; restoring from the previous snapshot and the log")]
    private static partial void LogSetAside(ILogger logger, string file, long bytes, string damage, string target);
}

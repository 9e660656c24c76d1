using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace RaftMall.Node.Consensus.Raft;

/// <summary>
/// A snapshot on disk as DotNext sees it: the log entry at <see cref="Index"/> that stands for everything up to it.
/// The leader sends it to a follower that is too far behind (DotNext reads it through
/// <see cref="IDataTransferObject.WriteToAsync{TWriter}"/>, once per follower and possibly concurrently).
/// </summary>
/// <remarks>
/// DotNext's docs say <see cref="ISnapshot"/> is not meant to be implemented by applications. What that protects, as
/// read in 6.12's code: the log reads <see cref="Index"/> and <c>Term</c> to compact and to answer for indexes the
/// snapshot covers, and streams the bytes to followers; it never casts the snapshot to its own type. So a snapshot
/// must be immutable once published, whole on disk before it is published (the log is compacted behind it), and
/// readable while a newer one replaces it. Files here are written under a temporary name, flushed and renamed
/// (<see cref="SnapshotFiles.WriteAsync"/>) before an instance is created, and never rewritten; the files the log no
/// longer needs are deleted, which on Linux leaves a transfer that is reading one unharmed.
/// </remarks>
public sealed class SnapshotFile(FileInfo file, long index, long term) : ISnapshot
{
    private readonly long _length = file.Length;

    public FileInfo File { get; } = file;

    public long Index { get; } = index;

    public long Term { get; } = term;

    long? IDataTransferObject.Length => _length;

    bool IDataTransferObject.IsReusable => true;

    async ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
    {
        var stream = File.Open(new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read | FileShare.Delete,
            BufferSize = 0, // the writer copies in large blocks; no second buffer
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
        });
        await using (stream.ConfigureAwait(false))
        {
            await writer.CopyFromAsync(stream, count: null, token).ConfigureAwait(false);
        }
    }
}

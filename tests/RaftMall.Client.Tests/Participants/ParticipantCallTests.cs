using RaftMall.Client.Participants;

namespace RaftMall.Client.Tests.Participants;

/// <summary>Reading the coordinator's headers: every operation and mode, and a clear error for each kind of bad header.</summary>
public class ParticipantCallTests
{
    private static Dictionary<string, string> Headers(string operation = "confirm", string mode = "tcc", string attempt = "3") => new(StringComparer.OrdinalIgnoreCase)
    {
        ["RaftMall-Gid"] = "g-1",
        ["RaftMall-Branch"] = "points",
        ["RaftMall-Operation"] = operation,
        ["RaftMall-Attempt"] = attempt,
        ["RaftMall-Mode"] = mode,
    };

    [Theory]
    [InlineData("try", "tcc", ParticipantOperation.Try, BarrierPhase.Try)]
    [InlineData("Confirm", "TCC", ParticipantOperation.Confirm, BarrierPhase.Confirm)]
    [InlineData("cancel", "tcc", ParticipantOperation.Cancel, BarrierPhase.Cancel)]
    [InlineData("prepare", "2pc", ParticipantOperation.Prepare, BarrierPhase.Try)]
    [InlineData("commit", "2pc", ParticipantOperation.Commit, BarrierPhase.Confirm)]
    [InlineData("rollback", "2pc", ParticipantOperation.Rollback, BarrierPhase.Cancel)]
    [InlineData("action", "saga", ParticipantOperation.Action, BarrierPhase.Try)]
    [InlineData("compensate", "saga", ParticipantOperation.Compensate, BarrierPhase.Cancel)]
    public void Reads_every_operation_of_every_mode(string operation, string mode, ParticipantOperation expected, BarrierPhase phase)
    {
        var headers = Headers(operation, mode);
        var call = ParticipantCall.FromHeaders(headers.GetValueOrDefault);
        Assert.Equal(("g-1", "points", expected, 3, phase), (call.Gid, call.BranchId, call.Operation, call.Attempt, call.Phase));
    }

    [Theory]
    [InlineData("RaftMall-Gid")]
    [InlineData("RaftMall-Branch")]
    [InlineData("RaftMall-Operation")]
    [InlineData("RaftMall-Attempt")]
    [InlineData("RaftMall-Mode")]
    public void A_missing_header_is_named(string header)
    {
        var headers = Headers();
        headers.Remove(header);
        var e = Assert.Throws<ParticipantCallException>(() => ParticipantCall.FromHeaders(headers.GetValueOrDefault));
        Assert.Equal(ParticipantCallException.MissingCode, e.Code);
        Assert.Contains(header, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("freeze", "tcc", "1", "RaftMall-Operation")]
    [InlineData("try", "xa", "1", "RaftMall-Mode")]
    [InlineData("try", "tcc", "0", "RaftMall-Attempt")]
    [InlineData("try", "tcc", "-1", "RaftMall-Attempt")]
    [InlineData("try", "tcc", "two", "RaftMall-Attempt")]
    [InlineData("commit", "tcc", "1", "does not belong to mode")]
    [InlineData("try", "saga", "1", "does not belong to mode")]
    public void An_invalid_header_is_explained(string operation, string mode, string attempt, string expectedInMessage)
    {
        var headers = Headers(operation, mode, attempt);
        var e = Assert.Throws<ParticipantCallException>(() => ParticipantCall.FromHeaders(headers.GetValueOrDefault));
        Assert.Equal(ParticipantCallException.InvalidCode, e.Code);
        Assert.Contains(expectedInMessage, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_overlong_gid_is_refused()
    {
        var headers = Headers();
        headers["RaftMall-Gid"] = new string('g', ParticipantHeaders.MaxIdLength + 1);
        Assert.Equal(ParticipantCallException.InvalidCode, Assert.Throws<ParticipantCallException>(() => ParticipantCall.FromHeaders(headers.GetValueOrDefault)).Code);
    }
}

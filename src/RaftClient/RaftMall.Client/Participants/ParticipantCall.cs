using System.Globalization;

namespace RaftMall.Client.Participants;

/// <summary>What the coordinator asks of a participant in one call (the RaftMall-Operation header).</summary>
public enum ParticipantOperation
{
    Try,
    Confirm,
    Cancel,
    Prepare,
    Commit,
    Rollback,
    Action,
    Compensate,
}

/// <summary>The transaction mode of the call (the RaftMall-Mode header).</summary>
public enum ParticipantMode
{
    Tcc,
    TwoPhaseCommit,
    Saga,
}

/// <summary>Where an operation stands in the protocol, whatever its mode: phase 1, or phase 2 forward or backward.</summary>
public enum BarrierPhase
{
    /// <summary>TCC try, 2PC prepare, saga action: reserves or applies, may be refused.</summary>
    Try,

    /// <summary>TCC confirm, 2PC commit: makes phase 1 final.</summary>
    Confirm,

    /// <summary>TCC cancel, 2PC rollback, saga compensation: undoes phase 1 if it took effect.</summary>
    Cancel,
}

/// <summary>One coordinator call as a participant sees it: which transaction, which branch, which operation, which attempt.</summary>
/// <param name="Attempt">1 for the first delivery; a retry (after a timeout, a 5xx or a leader change) counts up.</param>
public sealed record ParticipantCall(string Gid, string BranchId, ParticipantOperation Operation, int Attempt, ParticipantMode Mode)
{
    public BarrierPhase Phase => PhaseOf(Operation);

    /// <summary>
    /// Reads the call from request headers (<paramref name="header"/> returns a header's value or null, e.g.
    /// <c>name =&gt; request.Headers[name].FirstOrDefault()</c>). Throws <see cref="ParticipantCallException"/> naming
    /// the first missing or invalid header.
    /// </summary>
    public static ParticipantCall FromHeaders(Func<string, string?> header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var gid = Id(header, ParticipantHeaders.Gid);
        var branch = Id(header, ParticipantHeaders.Branch);
        var operation = Required(header, ParticipantHeaders.Operation).ToLowerInvariant() switch
        {
            "try" => ParticipantOperation.Try,
            "confirm" => ParticipantOperation.Confirm,
            "cancel" => ParticipantOperation.Cancel,
            "prepare" => ParticipantOperation.Prepare,
            "commit" => ParticipantOperation.Commit,
            "rollback" => ParticipantOperation.Rollback,
            "action" => ParticipantOperation.Action,
            "compensate" => ParticipantOperation.Compensate,
            var other => throw Invalid(ParticipantHeaders.Operation, other, "one of try, confirm, cancel, prepare, commit, rollback, action, compensate"),
        };
        var attemptText = Required(header, ParticipantHeaders.Attempt);
        if (!int.TryParse(attemptText, NumberStyles.None, CultureInfo.InvariantCulture, out var attempt) || attempt < 1)
        {
            throw Invalid(ParticipantHeaders.Attempt, attemptText, "a whole number from 1");
        }
        var mode = Required(header, ParticipantHeaders.Mode).ToLowerInvariant() switch
        {
            "tcc" => ParticipantMode.Tcc,
            "2pc" => ParticipantMode.TwoPhaseCommit,
            "saga" => ParticipantMode.Saga,
            var other => throw Invalid(ParticipantHeaders.Mode, other, "one of tcc, 2pc, saga"),
        };
        if (ModeOf(operation) != mode)
        {
            throw new ParticipantCallException(ParticipantCallException.InvalidCode,
                $"operation {operation.ToString().ToLowerInvariant()} does not belong to mode {Required(header, ParticipantHeaders.Mode)}");
        }
        return new ParticipantCall(gid, branch, operation, attempt, mode);
    }

    public static BarrierPhase PhaseOf(ParticipantOperation operation) => operation switch
    {
        ParticipantOperation.Try or ParticipantOperation.Prepare or ParticipantOperation.Action => BarrierPhase.Try,
        ParticipantOperation.Confirm or ParticipantOperation.Commit => BarrierPhase.Confirm,
        _ => BarrierPhase.Cancel,
    };

    private static ParticipantMode ModeOf(ParticipantOperation operation) => operation switch
    {
        ParticipantOperation.Try or ParticipantOperation.Confirm or ParticipantOperation.Cancel => ParticipantMode.Tcc,
        ParticipantOperation.Prepare or ParticipantOperation.Commit or ParticipantOperation.Rollback => ParticipantMode.TwoPhaseCommit,
        _ => ParticipantMode.Saga,
    };

    private static string Required(Func<string, string?> header, string name)
    {
        var value = header(name)?.Trim();
        return string.IsNullOrEmpty(value)
            ? throw new ParticipantCallException(ParticipantCallException.MissingCode, $"the {name} header is missing; is this call from a RaftMall coordinator?")
            : value;
    }

    private static string Id(Func<string, string?> header, string name)
    {
        var value = Required(header, name);
        if (value.Length > ParticipantHeaders.MaxIdLength) throw Invalid(name, value[..16] + "...", $"at most {ParticipantHeaders.MaxIdLength} characters");
        if (value.Any(char.IsControl)) throw Invalid(name, "(control characters)", "printable characters");
        return value;
    }

    private static ParticipantCallException Invalid(string name, string value, string expected) =>
        new(ParticipantCallException.InvalidCode, $"the {name} header is '{value}'; expected {expected}");
}

/// <summary>A request that is not a well-formed coordinator call; <see cref="Code"/> is the problem code to answer 400 with.</summary>
public sealed class ParticipantCallException(string code, string message) : Exception(message)
{
    public const string MissingCode = "participant_header_missing";
    public const string InvalidCode = "participant_header_invalid";

    public string Code { get; } = code;
}

using System.Globalization;

namespace RaftMall.Client.Participants;

/// <summary>What the coordinator asks of a participant in one call (the RaftMall-Operation header).</summary>
public enum ParticipantOperation
{
    /// <summary>TCC phase 1 (<c>try</c>): reserve; may refuse.</summary>
    Try,

    /// <summary>TCC phase 2 after a commit (<c>confirm</c>): make the reservation final.</summary>
    Confirm,

    /// <summary>TCC phase 2 after an abort (<c>cancel</c>): release the reservation, if the try took effect.</summary>
    Cancel,

    /// <summary>2PC phase 1 (<c>prepare</c>): vote; may refuse.</summary>
    Prepare,

    /// <summary>2PC phase 2 after a commit (<c>commit</c>): make the prepared change final.</summary>
    Commit,

    /// <summary>2PC phase 2 after an abort (<c>rollback</c>): undo the prepared change, if the prepare took effect.</summary>
    Rollback,

    /// <summary>A saga step (<c>action</c>): apply it; may refuse.</summary>
    Action,

    /// <summary>A saga's undo of a step (<c>compensate</c>), in reverse order after an abort, if the action took effect.</summary>
    Compensate,
}

/// <summary>The transaction mode of the call (the RaftMall-Mode header).</summary>
public enum ParticipantMode
{
    /// <summary>Try-confirm-cancel (<c>tcc</c>).</summary>
    Tcc,

    /// <summary>Two-phase commit (<c>2pc</c>): prepare, then commit or rollback.</summary>
    TwoPhaseCommit,

    /// <summary>Saga (<c>saga</c>): actions in order, compensations in reverse order on abort.</summary>
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
/// <param name="Gid">The global transaction's id (RaftMall-Gid), at most 128 characters.</param>
/// <param name="BranchId">The branch's id within the transaction (RaftMall-Branch), at most 128 characters.</param>
/// <param name="Operation">What the coordinator asks (RaftMall-Operation).</param>
/// <param name="Attempt">1 for the first delivery; a retry (after a timeout, a 5xx or a leader change) counts up.</param>
/// <param name="Mode">The transaction's mode (RaftMall-Mode); always the mode <paramref name="Operation"/> belongs to.</param>
public sealed record ParticipantCall(string Gid, string BranchId, ParticipantOperation Operation, int Attempt, ParticipantMode Mode)
{
    /// <summary>Where <see cref="Operation"/> stands in the protocol, whatever the mode.</summary>
    public BarrierPhase Phase => PhaseOf(Operation);

    /// <summary>
    /// Reads the call from request headers (<paramref name="header"/> returns a header's value or null, e.g.
    /// <c>name =&gt; request.Headers[name].FirstOrDefault()</c>). Throws <see cref="ParticipantCallException"/> naming
    /// the first missing or invalid header.
    /// </summary>
    /// <param name="header">Returns the value of the named request header, or null when it is absent.</param>
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

    /// <summary>The phase an operation belongs to: try, prepare and action are Try; confirm and commit Confirm; the rest Cancel.</summary>
    /// <param name="operation">The operation.</param>
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
/// <param name="code"><see cref="MissingCode"/> or <see cref="InvalidCode"/>.</param>
/// <param name="message">Which header is wrong and what was expected.</param>
public sealed class ParticipantCallException(string code, string message) : Exception(message)
{
    /// <summary>The code when a participant header is missing or empty.</summary>
    public const string MissingCode = "participant_header_missing";

    /// <summary>The code when a participant header is malformed, too long, or names an operation of another mode.</summary>
    public const string InvalidCode = "participant_header_invalid";

    /// <summary>The problem code to answer 400 with: <see cref="MissingCode"/> or <see cref="InvalidCode"/>.</summary>
    public string Code { get; } = code;
}

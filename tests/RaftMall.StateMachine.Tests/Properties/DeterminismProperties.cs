using FsCheck.Xunit;
using RaftMall.StateMachine.Codec;
using RaftMall.StateMachine.Tests.Scenarios;

namespace RaftMall.StateMachine.Tests.Properties;

/// <summary>Replicas that apply the same log agree, byte for byte, also when one of them restarts from a snapshot.</summary>
public class DeterminismProperties
{
    [Property(Arbitrary = [typeof(CommandGenerators)], MaxTest = 2000)]
    public void Same_commands_give_equal_results_and_byte_identical_snapshots(CommandSequence sequence)
    {
        var a = new MallStateMachine(retainedEvents: 40);
        var b = new MallStateMachine(retainedEvents: 40);
        foreach (var command in sequence.Commands)
        {
            // Replica b receives the command as it travels in the log: encoded and decoded.
            var fromLog = CommandCodec.Decode(CommandCodec.Encode(command));
            Assert.Equal(ScenarioRunner.Format(a.Apply(command)), ScenarioRunner.Format(b.Apply(fromLog)));
        }
        Assert.Equal(a.Snapshot(), b.Snapshot());
        Assert.Equal(a.StateHash(), b.StateHash());
    }

    [Property(Arbitrary = [typeof(CommandGenerators)], MaxTest = 2000)]
    public void Restore_then_the_rest_equals_applying_everything(CommandSequence sequence)
    {
        var commands = sequence.Commands;
        var whole = new MallStateMachine(retainedEvents: 40);
        foreach (var command in commands) whole.Apply(command);

        foreach (var cut in new[] { 0, commands.Length / 3, 2 * commands.Length / 3, commands.Length })
        {
            var prefix = new MallStateMachine(retainedEvents: 40);
            foreach (var command in commands[..cut]) prefix.Apply(command);
            var restored = MallStateMachine.Restore(prefix.Snapshot(), retainedEvents: 40);
            Assert.Equal(prefix.Snapshot(), restored.Snapshot());
            foreach (var command in commands[cut..]) restored.Apply(command);
            Assert.Equal(whole.Snapshot(), restored.Snapshot());
        }
    }
}

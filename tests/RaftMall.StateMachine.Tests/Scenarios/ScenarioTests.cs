namespace RaftMall.StateMachine.Tests.Scenarios;

/// <summary>Every testdata/*.txt file is a story of the shop, run step by step against the state machine.</summary>
public class ScenarioTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "testdata"), "*.txt").Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(file) != "README.txt") data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Scenario(string file) => new ScenarioRunner().Run(Path.Combine(AppContext.BaseDirectory, "testdata", file));

    [Fact]
    public void A_wrong_expectation_fails_the_scenario()
    {
        var path = Path.Combine(Path.GetTempPath(), $"raftmall-scenario-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "stock apple 5 => stock apple available=6 locked=0 sold=0\n");
        try
        {
            var error = Assert.Throws<Xunit.Sdk.XunitException>(() => new ScenarioRunner().Run(path));
            Assert.Contains("expected: stock apple available=6", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

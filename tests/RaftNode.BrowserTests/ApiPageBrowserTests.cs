using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RaftMall.Node.BrowserTests;

/// <summary>
/// The interactive API page (cluster.yml <c>openApiUi: true</c>) in real Chromium: it renders the node's OpenAPI
/// document, and every request the page makes — scripts, styles, fonts, the document — goes to the node itself.
/// </summary>
public sealed class ApiPageBrowserTests(ITestOutputHelper output)
{
    [BrowserFact]
    public async Task The_api_page_renders_the_document_and_asks_nothing_of_any_other_host()
    {
        var chromium = BrowserProbe.EnsureAvailable();
        await using var cluster = new TestCluster(1, output, settings: new Dictionary<string, string> { ["OpenApiUi"] = "true" });
        await cluster.StartAllAsync();
        var node = cluster.Address(cluster.NodeIds.First());

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Args = BrowserProbe.RunningAsRoot ? ["--no-sandbox"] : [],
        });
        var page = await browser.NewPageAsync();
        var requests = new List<string>();
        page.Request += (_, request) =>
        {
            lock (requests) requests.Add(request.Url);
        };

        await page.GotoAsync(new Uri(node, "/scalar/").ToString(), new() { WaitUntil = WaitUntilState.NetworkIdle });

        // The document was read and rendered: its title, the first operation (the page renders sections as they scroll in) and its problem codes.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "RaftMall", Exact = true }).First).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Read the outbox after a sequence number", Exact = false }).First).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(page.GetByText("code unauthenticated").First).ToBeAttachedAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        string[] seen;
        lock (requests) seen = [.. requests];
        foreach (var url in seen) output.WriteLine(url);
        Assert.Contains(seen, u => u.EndsWith("/openapi/v1.json", StringComparison.Ordinal));
        Assert.Contains(seen, u => u.EndsWith("/scalar/scalar.js", StringComparison.Ordinal));
        var elsewhere = seen.Where(u => !u.StartsWith(node.GetLeftPart(UriPartial.Authority) + "/", StringComparison.Ordinal)
            && !u.StartsWith("data:", StringComparison.Ordinal) && !u.StartsWith("blob:", StringComparison.Ordinal)).ToList();
        Assert.True(elsewhere.Count == 0, "requests outside the node: " + string.Join(", ", elsewhere));
    }
}

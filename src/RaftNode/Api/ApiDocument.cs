using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RaftMall.Contract;
using RaftMall.Node.Security;
using Scalar.AspNetCore;

namespace RaftMall.Node.Api;

/// <summary>The write takes an <c>Idempotency-Key</c> and goes through the log (leader, group commit, outcome unknown).</summary>
public sealed class IdempotentWriteMetadata;

/// <summary>The write takes <c>If-Match: &lt;revision&gt;</c>.</summary>
public sealed class RevisionConditionMetadata;

/// <summary>The read takes <c>?consistency=linearizable|local</c> (a read barrier unless local).</summary>
public sealed class ReadConsistencyMetadata;

/// <summary>A path parameter the endpoint reads as a whole number from <see cref="Minimum"/> (bound as a string, so that a bad one gets a validation problem).</summary>
public sealed record WholeNumberParameterMetadata(string Name, long Minimum);

/// <summary>The problem codes an endpoint itself answers with one status (besides those every request can get).</summary>
public sealed record ProblemCodesMetadata(int Status, IReadOnlyList<string> Codes);

/// <summary>
/// The OpenAPI document at /openapi/v1.json, complete enough for a generated client: request bodies, the Bearer scheme
/// and the role each operation needs (from <see cref="AccessRules"/>, the table the node enforces), the
/// Idempotency-Key, If-Match and consistency parameters, and every problem code per operation and status.
/// </summary>
public static class ApiDocument
{
    public const string SchemeName = "bearer";
    public const string RoleExtension = "x-raftmall-role";
    public const string CodesExtension = "x-raftmall-problem-codes";

    /// <summary>A write through the log: the Idempotency-Key parameter and the problems of proposing.</summary>
    public static RouteHandlerBuilder IdempotentWrite(this RouteHandlerBuilder builder) => builder.WithMetadata(new IdempotentWriteMetadata())
        .Refuses(400, ProblemCodes.Validation)
        .Refuses(409, "idempotency_key_reused")
        .Refuses(503, ProblemCodes.NoLeader, ProblemCodes.NotLeader, ProblemCodes.OutcomeUnknown);

    /// <summary>A JSON body of <typeparamref name="T"/>, read by <see cref="JsonBody"/>: its schema and the problems of reading it.</summary>
    public static RouteHandlerBuilder JsonBodyOf<T>(this RouteHandlerBuilder builder) where T : notnull => builder.Accepts<T>("application/json")
        .Refuses(400, ProblemCodes.Validation, ProblemCodes.MalformedJson)
        .Refuses(413, "body_too_large");

    /// <summary>A conditional write: the If-Match parameter and 412.</summary>
    public static RouteHandlerBuilder RevisionCondition(this RouteHandlerBuilder builder) => builder.WithMetadata(new RevisionConditionMetadata())
        .Refuses(400, ProblemCodes.Validation)
        .Refuses(412, "revision_mismatch");

    /// <summary>A read behind the read barrier: the consistency parameter and the problems of the barrier.</summary>
    public static RouteHandlerBuilder ReadConsistency(this RouteHandlerBuilder builder) => builder.WithMetadata(new ReadConsistencyMetadata())
        .Refuses(400, ProblemCodes.Validation)
        .Refuses(503, ProblemCodes.NoLeader);

    /// <summary>Documents path parameter <paramref name="name"/> as a whole number from <paramref name="minimum"/>.</summary>
    public static RouteHandlerBuilder WholeNumberParameter(this RouteHandlerBuilder builder, string name, long minimum) =>
        builder.WithMetadata(new WholeNumberParameterMetadata(name, minimum));

    /// <summary>The endpoint answers <paramref name="status"/> with one of <paramref name="codes"/>.</summary>
    public static RouteHandlerBuilder Refuses(this RouteHandlerBuilder builder, int status, params string[] codes) =>
        builder.ProducesProblem(status).WithMetadata(new ProblemCodesMetadata(status, codes));

    /// <summary>Where <see cref="MapInteractivePage"/> serves the page.</summary>
    public const string PagePath = "/scalar";

    /// <summary>
    /// The interactive page over the document (cluster.yml <c>openApiUi</c>): Scalar, whose bundle is embedded in its
    /// package and served from <see cref="PagePath"/>; web fonts, telemetry, the AI agent and the link to Scalar's hosted
    /// client are off, so the page asks nothing of any host but this node.
    /// </summary>
    public static void MapInteractivePage(IEndpointRouteBuilder app) =>
        app.MapScalarApiReference(PagePath, o => o
            .WithTitle("RaftMall API")
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp()
            .HideClientButton()
            .AddPreferredSecuritySchemes(SchemeName));

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "RaftMall",
                Version = "v1",
                Description = "A Raft-replicated coordinator for online shops: stock, orders, submit tokens, key-value, events and global " +
                    "transactions (TCC, 2PC, saga). Any node answers; writes are forwarded to the leader. Errors are application/problem+json " +
                    $"with a machine-readable `code`; each operation lists its codes per status in `{CodesExtension}` and the role its key needs in `{RoleExtension}`.",
                License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" },
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key of the cluster's credentials file, as `Authorization: Bearer <key>`. Roles: reader < writer < admin; " +
                    "a key can do what its role and every lower role can. A cluster started with `insecure: true` needs no key.",
            };
            return Task.CompletedTask;
        });
        // ProblemDetails as RaftMall writes it: with the code.
        options.AddSchemaTransformer((schema, context, _) =>
        {
            // Request bodies: every field may be left out (null is the same as absent); the node names a missing
            // required one in a 400 validation problem, and each field's description says whether it is required.
            var contract = context.JsonTypeInfo.Type.Namespace == typeof(StockRequest).Namespace;
            if (contract && context.JsonTypeInfo.Type.Name.EndsWith("Request", StringComparison.Ordinal))
            {
                schema.Required?.Clear();
                foreach (var property in schema.Properties?.Values.OfType<OpenApiSchema>() ?? [])
                {
                    if (property.Type is { } type && type != JsonSchemaType.Null) property.Type = type & ~JsonSchemaType.Null;
                }
            }
            else if (contract && schema.Required is { } required && schema.Properties is { } answerProperties)
            {
                // Answers: the node leaves null fields out (WhenWritingNull), so a nullable field is not required.
                foreach (var (name, property) in answerProperties)
                {
                    if (property.Type is { } type && type.HasFlag(JsonSchemaType.Null)) required.Remove(name);
                }
            }
            if (context.JsonTypeInfo.Type == typeof(ProblemDetails) && schema.Properties is { } properties)
            {
                properties["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Machine-readable reason, e.g. insufficient_stock (docs/api.md, Errors)." };
                schema.Required ??= new HashSet<string>();
                schema.Required.Add("code");
            }
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var description = context.Description;
            var path = new PathString("/" + description.RelativePath?.Split('?')[0]);
            if (AccessRules.IsPublic(path)) return Task.CompletedTask;
            var metadata = description.ActionDescriptor.EndpointMetadata;
            var role = AccessRules.Required(description.HttpMethod ?? "GET", path);
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, context.Document)] = [] });
            operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            operation.Extensions[RoleExtension] = new JsonNodeExtension(JsonValue.Create(role.ToString().ToLowerInvariant()));
            operation.Description = $"Needs a {role.ToString().ToLowerInvariant()} key (or a higher role).";
            operation.Parameters ??= [];
            foreach (var number in metadata.OfType<WholeNumberParameterMetadata>())
            {
                if (operation.Parameters.FirstOrDefault(p => p.Name == number.Name) is OpenApiParameter parameter)
                {
                    parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = number.Minimum.ToString(System.Globalization.CultureInfo.InvariantCulture) };
                }
            }
            if (metadata.OfType<IdempotentWriteMetadata>().Any())
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = RaftMallHeaders.IdempotencyKey,
                    In = ParameterLocation.Header,
                    Description = "Makes the write apply once: a retry with the same key gets the first answer (kept 24 h of log time). " +
                        "1..128 visible ASCII characters; the same key with a different request is refused (409 idempotency_key_reused).",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 128, Pattern = "^[!-~]+$" },
                });
            }
            if (metadata.OfType<RevisionConditionMetadata>().Any())
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = "If-Match",
                    In = ParameterLocation.Header,
                    Description = "Only if the key is at this revision (0: only if it does not exist); otherwise 412 revision_mismatch. Bare or quoted.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^\"?[0-9]+\"?$" },
                });
            }
            if (metadata.OfType<ReadConsistencyMetadata>().Any())
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = "consistency",
                    In = ParameterLocation.Query,
                    Description = "linearizable (the default): a read barrier through the leader; local: this node's state, which may be stale.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("linearizable"), JsonValue.Create("local")], Default = JsonValue.Create("linearizable") },
                });
            }
            AddProblems(operation, context, metadata);
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// Every problem the operation can answer, per status: the endpoint's own codes and those of the pipeline every API
    /// request passes (authentication, role, rate limit, load shedding), as a description and as <see cref="CodesExtension"/>.
    /// </summary>
    private static void AddProblems(OpenApiOperation operation, OpenApiOperationTransformerContext context, IList<object> metadata)
    {
        var codes = new SortedDictionary<int, SortedSet<string>>();
        void Add(int status, params string[] names)
        {
            if (!codes.TryGetValue(status, out var set)) codes[status] = set = new SortedSet<string>(StringComparer.Ordinal);
            set.UnionWith(names);
        }
        Add(401, ProblemCodes.Unauthenticated);
        Add(403, ProblemCodes.Forbidden);
        Add(429, ProblemCodes.RateLimited);
        Add(503, ProblemCodes.Overloaded);
        foreach (var declared in metadata.OfType<ProblemCodesMetadata>()) Add(declared.Status, [.. declared.Codes]);
        // A typed route or query parameter the framework cannot read (limit=abc) is answered before the endpoint runs.
        if (context.Description.ParameterDescriptions.Any(p => p.Source.Id is "Query" or "Path" && p.Type != typeof(string))) Add(400, "bad_request");

        operation.Responses ??= [];
        var extension = new JsonObject();
        foreach (var (status, names) in codes)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!operation.Responses.TryGetValue(key, out var existing) || existing is not OpenApiResponse response)
            {
                response = new OpenApiResponse
                {
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(nameof(ProblemDetails), context.Document) },
                    },
                };
                operation.Responses[key] = response;
            }
            response.Description = $"{ReasonPhrase(status)}: code {string.Join(", ", names)}";
            var list = new JsonArray([.. names.Select(n => JsonValue.Create(n))]);
            response.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            response.Extensions[CodesExtension] = new JsonNodeExtension(list);
            extension[key] = list.DeepClone();
        }
        operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
        operation.Extensions[CodesExtension] = new JsonNodeExtension(extension);
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}

namespace RaftMall.StateMachine;

/// <summary>Shape checks shared by the state machine and the HTTP layer, so both refuse the same input the same way.</summary>
public static class Validation
{
    /// <summary>An id is 1..<see cref="MallLimits.MaxIdLength"/> characters of [A-Za-z0-9] and <c>-_.:@~</c>: safe in a URL path and a log line.</summary>
    public static string? CheckId(string? id, string what)
    {
        if (string.IsNullOrEmpty(id)) return $"{what} must not be empty";
        if (id.Length > MallLimits.MaxIdLength) return $"{what} is longer than {MallLimits.MaxIdLength} characters";
        foreach (var c in id)
        {
            if (!IsIdChar(c)) return $"{what} may contain only letters, digits and - _ . : @ ~";
        }
        return null;
    }

    public static bool IsIdChar(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_' or '.' or ':' or '@' or '~';

    /// <summary>A key is 1..<see cref="MallLimits.MaxKeyLength"/> characters with no control characters.</summary>
    public static string? CheckKey(string? key)
    {
        if (string.IsNullOrEmpty(key)) return "key must not be empty";
        if (key.Length > MallLimits.MaxKeyLength) return $"key is longer than {MallLimits.MaxKeyLength} characters";
        foreach (var c in key)
        {
            if (char.IsControl(c) || char.IsSurrogate(c)) return "key must not contain control or surrogate characters";
        }
        return null;
    }

    public static string? CheckValue(string? value)
    {
        if (value is null) return "value is required";
        if (value.Length > MallLimits.MaxValueLength) return $"value is longer than {MallLimits.MaxValueLength} characters";
        return null;
    }

    public static string? CheckIdempotencyKey(string? key)
    {
        if (key is null) return null;
        if (key.Length == 0) return "Idempotency-Key must not be empty";
        if (key.Length > MallLimits.MaxIdempotencyKeyLength) return $"Idempotency-Key is longer than {MallLimits.MaxIdempotencyKeyLength} characters";
        foreach (var c in key)
        {
            if (c < 0x21 || c > 0x7e) return "Idempotency-Key must be visible ASCII";
        }
        return null;
    }

    /// <summary>Checks the items of an order: count, quantities, skus, no sku twice.</summary>
    public static string? CheckItems(OrderItem[]? items)
    {
        if (items is null || items.Length == 0) return "an order needs at least one item";
        if (items.Length > MallLimits.MaxItemsPerOrder) return $"an order has at most {MallLimits.MaxItemsPerOrder} items";
        for (var i = 0; i < items.Length; i++)
        {
            if (CheckId(items[i].Sku, "sku") is { } error) return error;
            if (items[i].Quantity <= 0) return "quantity must be at least 1";
            if (items[i].Quantity > MallLimits.MaxQuantityPerItem) return $"quantity is at most {MallLimits.MaxQuantityPerItem}";
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(items[j].Sku, items[i].Sku, StringComparison.Ordinal)) return $"sku {items[i].Sku} appears twice";
            }
        }
        return null;
    }

    /// <summary>Checks a message: topic and key (when given) are ids; the payload is well-formed JSON of at most <see cref="MallLimits.MaxMessagePayloadLength"/> characters.</summary>
    public static string? CheckMessage(string? topic, string? key, string? payload)
    {
        if (CheckId(topic, "topic") is { } topicError) return topicError;
        if (key is not null && CheckId(key, "key") is { } keyError) return keyError;
        if (payload is null) return "payload is required (any JSON value)";
        if (payload.Length > MallLimits.MaxMessagePayloadLength) return $"payload is longer than {MallLimits.MaxMessagePayloadLength} characters";
        return IsJson(payload) ? null : "payload is not well-formed JSON";
    }

    /// <summary>
    /// Checks a subscription's settings: its name, an absolute http(s) endpoint, 1..<see cref="MallLimits.MaxSubscriptionFilters"/>
    /// topics and event types together (each once; event types by their names), and sensible timeout, batch size and attempts.
    /// </summary>
    public static string? CheckSubscription(SubscriptionSpec? spec)
    {
        if (spec is null) return "a subscription is required";
        if (CheckId(spec.Name, "name") is { } nameError) return nameError;
        if (string.IsNullOrEmpty(spec.Endpoint) || spec.Endpoint.Length > MallLimits.MaxUrlLength
            || !Uri.TryCreate(spec.Endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            return $"endpoint must be an absolute http(s) URL of at most {MallLimits.MaxUrlLength} characters";
        }
        if (spec.Topics is null || spec.EventTypes is null || spec.Topics.Length + spec.EventTypes.Length == 0)
        {
            return "a subscription matches at least one topic or event type";
        }
        if (spec.Topics.Length + spec.EventTypes.Length > MallLimits.MaxSubscriptionFilters)
        {
            return $"a subscription matches at most {MallLimits.MaxSubscriptionFilters} topics and event types together";
        }
        foreach (var topic in spec.Topics)
        {
            if (CheckId(topic, "topic") is { } topicError) return topicError;
        }
        foreach (var type in spec.EventTypes)
        {
            if (type is null || !EventKindNames.All.Contains(type)) return $"event type '{type}' is not one of {string.Join(", ", EventKindNames.All)}";
        }
        if (spec.Topics.Distinct(StringComparer.Ordinal).Count() != spec.Topics.Length || spec.EventTypes.Distinct(StringComparer.Ordinal).Count() != spec.EventTypes.Length)
        {
            return "a topic or event type appears twice";
        }
        if (spec.TimeoutMs < 10 || spec.TimeoutMs > MallLimits.MaxSubscriptionTimeoutMs) return $"timeoutMs is between 10 and {MallLimits.MaxSubscriptionTimeoutMs}";
        if (spec.BatchSize < 1 || spec.BatchSize > MallLimits.MaxSubscriptionBatch) return $"batchSize is between 1 and {MallLimits.MaxSubscriptionBatch}";
        if (spec.MaxAttempts < 1 || spec.MaxAttempts > MallLimits.MaxSubscriptionAttempts) return $"maxAttempts is between 1 and {MallLimits.MaxSubscriptionAttempts}";
        return null;
    }

    /// <summary>True when <paramref name="text"/> is exactly one JSON value (RFC 8259, no comments or trailing commas).</summary>
    public static bool IsJson(string text)
    {
        var reader = new System.Text.Json.Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(text));
        try
        {
            if (!reader.Read()) return false;
            reader.Skip();
            return !reader.Read(); // nothing after the one value
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}

-- POST /api/orders for one of 100 skus (stocked by the script before the run): one Raft write per order.
local counter = 0
function setup(thread) thread:set("id", tostring(math.random(1, 1000000000))) end
function request()
  counter = counter + 1
  local body = string.format('{"userId":"u%s-%d","items":[{"sku":"bench-%d","quantity":1}],"ttlSeconds":3600}', id, counter % 1000, counter % 100)
  return wrk.format("POST", "/api/orders", {["Content-Type"] = "application/json"}, body)
end

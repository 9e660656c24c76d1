-- PUT /api/kv/<unique key> with a 200-byte value: one Raft write per request.
local counter = 0
local value = string.rep("v", 200)
function setup(thread) thread:set("id", tostring(math.random(1, 1000000000))) end
function request()
  counter = counter + 1
  return wrk.format("PUT", "/api/kv/bench-" .. id .. "-" .. counter, {["Content-Type"] = "application/json"}, '{"value":"' .. value .. '"}')
end

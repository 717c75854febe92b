-- POST /api/payments/pay: each request pays a different pending order, as its owner,
-- with a new idempotency key, by card (the simulated gateway accepts it).
--
-- Arguments: the orders file (`<order id> <total> <owner's access token>` a line),
-- the number of wrk threads, and a prefix for the idempotency keys. Thread i takes
-- the lines i, i + threads, ... When a thread has paid all of its orders it stops
-- and says so (`exhausted`): bench/run then places more orders and measures again.
dofile("bench/wrk/report.lua")

local orders = {}
local next_order = 1

function init(args)
  local threads = tonumber(args[2])
  local index = 0
  for line in io.lines(args[1]) do
    if index % threads == thread_id then
      local id, total, token = line:match("^(%d+) (%d+) (%S+)$")
      table.insert(orders, wrk.format("POST", "/api/payments/pay", {
        ["content-type"] = "application/json",
        ["authorization"] = "Bearer " .. token,
        ["x-idempotency-key"] = args[3] .. "-" .. id,
      }, string.format('{"order_id":%s,"amount":%s,"method":"card"}', id, total)))
    end
    index = index + 1
  end
end

function request()
  local req = orders[next_order]
  if req == nil then
    exhausted = true
    wrk.thread:stop()
    return wrk.format("GET", "/api/payments/healthz")
  end
  next_order = next_order + 1
  return req
end

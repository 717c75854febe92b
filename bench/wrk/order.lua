-- POST /api/orders/orders: one unit of one product (second argument), as each
-- customer of the tokens file (first argument, one access token a line) in turn.
-- No Idempotency-Key: each request places a new order.
dofile("bench/wrk/report.lua")

local requests = {}
local next_request = 1

function init(args)
  local body = string.format('{"items":[{"product_id":%d,"qty":1}]}', tonumber(args[2]))
  for token in io.lines(args[1]) do
    table.insert(requests, wrk.format("POST", "/api/orders/orders", {
      ["content-type"] = "application/json",
      ["authorization"] = "Bearer " .. token,
    }, body))
  end
  -- The threads start at different customers.
  next_request = (thread_id or 0) % #requests + 1
end

function request()
  local req = requests[next_request]
  next_request = next_request % #requests + 1
  return req
end

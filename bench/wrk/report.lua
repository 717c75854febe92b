-- Loaded by every scenario script: numbers each wrk thread (the global `thread_id`
-- in the thread, from 0) and, when wrk is done, prints the one line bench/run reads.
--
-- `status_errors` is wrk's own count of answers with a status of 400 or more (no
-- route bench/run measures answers 1xx or 3xx); `socket_errors` adds up failed
-- connects, reads, writes and timeouts. `exhausted_threads` counts threads that ran
-- out of work to send (pay.lua), which makes the run unusable as a measurement.

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local errors = summary.errors
  local exhausted = 0
  for _, thread in ipairs(threads) do
    if thread:get("exhausted") then
      exhausted = exhausted + 1
    end
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d socket_errors=%d exhausted_threads=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    exhausted))
end

-- wrk workload for bench/provider_throughput.py: POST /v1/payment_intents with a
-- fresh idempotency key per request and ~10% decline cards. Prints one JSON line.
local counter = 0
local nthreads = 0

function setup(thread)
  -- Runs in the main Lua state; "tid" becomes a global of that thread's own state.
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end

request = function()
  counter = counter + 1
  local card = "pm_card_visa"
  if counter % 10 == 0 then card = "pm_card_visa_chargeDeclined" end
  local ref = tostring(tid) .. "-" .. tostring(counter)
  local body = "amount=1200&currency=usd&confirm=true&payment_method=" .. card ..
               "&metadata%5Border_id%5D=o" .. ref
  return wrk.format("POST", "/v1/payment_intents", {
    ["Authorization"] = "Bearer sk_test_bench",
    ["Idempotency-Key"] = "k" .. ref,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"elapsed_s":%f,"p50_ms":%f,"p99_ms":%f,"non2xx":%d,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

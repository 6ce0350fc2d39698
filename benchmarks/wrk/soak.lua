-- benchmarks/soak.py's wrk script: cycles through a request plan and counts answers by
-- status class in every thread, then prints one line "SOAK {json}" with the totals,
-- wrk's socket errors and latency percentiles.
--
-- The plan comes as wrk's script arguments (after "--"), one request each:
--   "GET /items/1"   or   "POST /books {json}"
-- In a body, "{n}" becomes a number unique to this request: the thread id, then a
-- counter that starts at the environment's SOAK_START (0 by default; give each run of
-- one server its own range).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  plan = {}
  for _, spec in ipairs(args) do
    local method, path, body = spec:match("^(%u+) (%S+) ?(.*)$")
    if method == nil then
      error("bad request spec: " .. spec)
    end
    table.insert(plan, { method = method, path = path, body = body })
  end
  sent = tonumber(os.getenv("SOAK_START") or "0")
  c2, c3, c4, c5 = 0, 0, 0, 0
end

function request()
  sent = sent + 1
  local r = plan[(sent - 1) % #plan + 1]
  if r.body == "" then
    return wrk.format(r.method, r.path)
  end
  local unique = string.format("%d%09d", id, sent)
  local body = (r.body:gsub("{n}", unique))
  return wrk.format(r.method, r.path, { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status >= 500 then
    c5 = c5 + 1
  elseif status >= 400 then
    c4 = c4 + 1
  elseif status >= 300 then
    c3 = c3 + 1
  else
    c2 = c2 + 1
  end
end

function done(summary, latency, requests)
  local t2, t3, t4, t5 = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    t2 = t2 + thread:get("c2")
    t3 = t3 + thread:get("c3")
    t4 = t4 + thread:get("c4")
    t5 = t5 + thread:get("c5")
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK {"requests":%d,"duration_us":%d,"bytes":%d,"2xx":%d,"3xx":%d,"4xx":%d,"5xx":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"non_2xx_3xx":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, t2, t3, t4, t5,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end

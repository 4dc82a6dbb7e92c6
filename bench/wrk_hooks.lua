-- Hooks shared by every wrk run of bench/run.py.
--
-- run.py writes a `config` table in front of this text (one script per run):
--   config.threads      wrk's -t, to give each request a number unique across threads
--   config.method       HTTP method
--   config.paths        target paths, taken in turn by request number
--   config.headers      request headers
--   config.body         request body (nil for none)
--   config.slug_prefix  optional: send `Slug: <prefix><n>` with request n
--   config.body_parts   optional: body = parts[1] .. value .. parts[2], where value runs
--                       through 0 .. config.value_cycle - 1 on each target in turn
-- It counts the requests sent and every response by status and, when the run is over,
-- prints one line "BENCH_JSON {...}" that workload.py reads.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

wrk.method = config.method
wrk.path = config.paths[1]
wrk.body = config.body
for name, value in pairs(config.headers) do
  wrk.headers[name] = value
end

local build = nil -- nil: the same request every time (wrk formats it once)

if #config.paths > 1 or config.slug_prefix ~= nil or config.body_parts ~= nil then
  local count = 0

  build = function()
    local n = thread_index + count * config.threads
    count = count + 1
    local targets = #config.paths
    local headers = {}
    for name, value in pairs(config.headers) do
      headers[name] = value
    end
    if config.slug_prefix then
      headers["Slug"] = config.slug_prefix .. n
    end
    local body = config.body
    if config.body_parts then
      local value = math.floor(n / targets) % config.value_cycle
      body = config.body_parts[1] .. value .. config.body_parts[2]
    end
    return wrk.format(config.method, config.paths[n % targets + 1], headers, body)
  end
end

-- Every request passes here so that requests sent can be counted; wrk also calls this
-- once on the first thread before the run, to check the script.
function request()
  sent = sent + 1
  if build then
    return build()
  end
  return wrk.request()
end

function init(args)
  statuses = {}
  sent = 0
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local pairs_out = {}
  local sent_total = -1 -- the check call before the run
  for _, thread in ipairs(threads) do
    sent_total = sent_total + thread:get("sent")
    for status, count in pairs(thread:get("statuses")) do
      table.insert(pairs_out, string.format("[%d, %d]", status, count))
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p99_us": %.0f, '
      .. '"socket_errors": %d, "sent": %d, "statuses": [%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, sent_total,
    table.concat(pairs_out, ", ")))
end

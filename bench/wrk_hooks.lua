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
--   config.proof_files  optional (DPoP rows): one file per thread, each line "<path> <proof>";
--                       request k of a thread goes to the path of line k with its proof in a
--                       DPoP header (config.headers holds the Authorization). A proof is never
--                       sent twice: a thread that has used all its lines stops (ran_out = 1),
--                       and the run does not count.
-- It counts the requests sent and every response by status, keeps the first response that was
-- not 2xx and, when the run is over, prints one line "BENCH_JSON {...}" that workload.py reads.

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
local proofs = nil -- DPoP rows: this thread's proof file, read whole in init
local proof_at = 1 -- where its next line starts

-- The next (path, proof) of this thread, or nil when all are used.
local function next_proof()
  local stop = string.find(proofs, "\n", proof_at, true)
  if stop == nil then
    return nil
  end
  local line = string.sub(proofs, proof_at, stop - 1)
  proof_at = stop + 1
  local space = string.find(line, " ", 1, true)
  return string.sub(line, 1, space - 1), string.sub(line, space + 1)
end

if config.proof_files ~= nil then
  build = function()
    local path, proof = next_proof()
    if path == nil then
      return nil
    end
    local headers = {}
    for name, value in pairs(config.headers) do
      headers[name] = value
    end
    headers["DPoP"] = proof
    return wrk.format(config.method, path, headers, config.body)
  end
elseif #config.paths > 1 or config.slug_prefix ~= nil or config.body_parts ~= nil then
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
-- once on the first thread before the run, to check the script. Out of proofs, the thread
-- stops and this connection sends nothing (an empty request writes no bytes).
function request()
  if build then
    local text = build()
    if text == nil then
      ran_out = 1
      wrk.thread:stop()
      return ""
    end
    sent = sent + 1
    return text
  end
  sent = sent + 1
  return wrk.request()
end

function init(args)
  statuses = {}
  sent = 0
  ran_out = 0
  first_error = ""
  if config.proof_files ~= nil then
    local file = assert(io.open(config.proof_files[thread_index + 1], "rb"))
    proofs = file:read("*a")
    file:close()
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if first_error == "" and (status < 200 or status > 299) then
    local challenge = ""
    for name, value in pairs(headers) do
      if string.lower(name) == "www-authenticate" then
        challenge = " [WWW-Authenticate: " .. value .. "]"
      end
    end
    first_error = status .. challenge .. " " .. string.sub(body or "", 1, 500)
  end
end

-- `text` as the inside of a JSON string: quotes, backslashes, control and non-ASCII bytes
-- escaped (each byte on its own, so that a cut UTF-8 sequence stays valid JSON).
local function json_escape(text)
  return (string.gsub(text, '[%c"\\\128-\255]', function(char)
    return string.format("\\u%04x", string.byte(char))
  end))
end

function done(summary, latency, requests)
  local pairs_out = {}
  local sent_total = -1 -- the check call before the run
  local ran_out, first_error = 0, ""
  for _, thread in ipairs(threads) do
    sent_total = sent_total + thread:get("sent")
    ran_out = ran_out + thread:get("ran_out")
    if first_error == "" then
      first_error = thread:get("first_error")
    end
    for status, count in pairs(thread:get("statuses")) do
      table.insert(pairs_out, string.format("[%d, %d]", status, count))
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p99_us": %.0f, '
      .. '"socket_errors": %d, "sent": %d, "ran_out": %d, "first_error": "%s", '
      .. '"statuses": [%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, sent_total, ran_out,
    json_escape(first_error), table.concat(pairs_out, ", ")))
end

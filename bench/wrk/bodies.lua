-- wrk script for the benchmark harness: POSTs the JSON bodies of a file (one per line) in
-- turn, each thread from its own place in the file. A line may start with a bearer token and
-- a tab. Counts answers that carry GraphQL errors or userErrors, and prints one JSON line of figures.
--   wrk -s bench/wrk/bodies.lua URL -- BODIES_FILE
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  bodies, tokens = {}, {}
  for line in io.lines(args[1]) do
    local token, body = line:match("^([^\t]*)\t(.*)$")
    if token == nil then token, body = "", line end
    bodies[#bodies + 1] = body
    tokens[#tokens + 1] = token
  end
  counter = index * 7919
  graphql_errors = 0
  user_errors = 0
end

function request()
  counter = counter + 1
  local at = (counter % #bodies) + 1
  local headers = { ["Content-Type"] = "application/json" }
  if tokens[at] ~= "" then headers["Authorization"] = "Bearer " .. tokens[at] end
  return wrk.format("POST", nil, headers, bodies[at])
end

function response(status, headers, body)
  if body:find('"errors":', 1, true) then graphql_errors = graphql_errors + 1 end
  if body:find('"userErrors":[{', 1, true) then user_errors = user_errors + 1 end
end

function done(summary, latency, requests)
  local graphql, user = 0, 0
  for _, thread in ipairs(threads) do
    graphql = graphql + thread:get("graphql_errors")
    user = user + thread:get("user_errors")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
    .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, "graphql_errors": %d, '
    .. '"user_errors": %d, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    graphql, user, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max))
end

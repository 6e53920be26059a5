-- pace.lua: wrk script that paces each connection to a fixed rate, so
-- latency is measured at a chosen load instead of at saturation (wrk has
-- no -R). PACE_MS is the delay before each request on one connection.
local pace = tonumber(os.getenv("PACE_MS") or "0")
function delay()
  return pace
end

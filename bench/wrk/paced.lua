-- Like decision.lua, but each connection thinks for a random time between requests, exponential
-- with mean DELAY_MS (environment), to hold the offered rate near a target:
-- rate ~= connections * 1000 / (DELAY_MS + latency).
-- A fixed pause would keep the connections in step: after one slow answer they all send at once,
-- and the server sees bursts of `connections` requests that no real client population sends.
-- Random think times keep arrivals independent (close to Poisson), as in production traffic.
dofile(os.getenv("VIGIL_WRK_DIR") .. "/decision.lua")
local pause = tonumber(os.getenv("DELAY_MS") or "0")
function delay()
  -- wrk takes whole milliseconds; rounding keeps the mean.
  return math.floor(-math.log(1 - math.random()) * pause + 0.5)
end

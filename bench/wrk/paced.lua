-- Like decision.lua, but each connection waits DELAY_MS (environment) between requests, to hold
-- the offered rate near a target: rate ~= connections * 1000 / (DELAY_MS + latency).
dofile(os.getenv("VIGIL_WRK_DIR") .. "/decision.lua")
local pause = tonumber(os.getenv("DELAY_MS") or "0")
function delay()
  return pause
end

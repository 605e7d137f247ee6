-- wrk script: POST /v1/decisions, transaction flow with three external signals, a fresh
-- request_id per request (so every request is a new decision written to the audit log).
-- Usage: VIGIL_KEY=vgl_... wrk -t1 -c32 -d10s -s bench/wrk/decision.lua http://127.0.0.1:PORT
local counter = 0
local thread_id = 0
local key = os.getenv("VIGIL_KEY") or ""

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  prefix = "wrk" .. id .. "_" .. tostring(os.time()) .. "_"
end

function request()
  counter = counter + 1
  -- Ids as clients make them (random, like UUIDs), not in order: an index over them is then
  -- written at random places, as in production. The counter after the random part keeps them unique.
  local rid = string.format("%08x%06x", math.random(0, 0x7fffffff), math.random(0, 0xffffff)) .. prefix .. counter
  local body = '{"request_id":"' .. rid .. '","flow_type":"transaction_approval",' ..
    '"context":{"platform":"web","browser_family":"chrome","sdk_version":"web-2.4.1","account_id":"acct_' .. (counter % 5000) ..
    '","card_id":"card_' .. (counter % 7000) .. '","amount":' .. (counter % 900 + 5) ..
    ',"currency":"EUR","account_age_days":' .. (counter % 2000) .. ',"payment_method":"card"},' ..
    '"signals":{"fraud_model":0.' .. (counter % 90 + 10) .. ',"device_risk":0.3,"behaviour":0.2}}'
  return wrk.format("POST", "/v1/decisions", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end

-- wrk script for bench/baseline/run.sh: the same POST /v1/decisions body for vigil and for the
-- Flask baseline. A transaction with the context every analyzer reads (account, card, device, IP,
-- session and action, geography, amount, account age) and three external signals; a fresh
-- request_id per request (every request is a new decision in vigil's audit log). Each account
-- keeps one position, and each session walks login -> browse -> checkout -> payment.
local counter = 0
local thread_id = 0
local key = os.getenv("VIGIL_KEY") or ""
local actions = {"login", "browse", "checkout", "payment"}

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
  local a = counter % 5000
  -- Ids as clients make them (random, like UUIDs), not in order: an index over them is then
  -- written at random places, as in production. The counter after the random part keeps them unique.
  local rid = string.format("%08x%06x", math.random(0, 0x7fffffff), math.random(0, 0xffffff)) .. prefix .. counter
  local body = '{"request_id":"' .. rid .. '","flow_type":"transaction_approval",' ..
    '"context":{"platform":"web","browser_family":"chrome","sdk_version":"web-2.4.1",' ..
    '"account_id":"acct_' .. a .. '","card_id":"card_' .. (counter % 7000) ..
    '","device_id":"dev_' .. a .. '","ip":"10.2.' .. (a % 250) .. '.' .. (a % 200) ..
    '","session_id":"s' .. id .. '_' .. a .. '","action":"' .. actions[math.floor(counter / 5000) % 4 + 1] ..
    '","geo":{"lat":' .. (40 + (a % 100) / 10) .. ',"lon":' .. ((a % 37) - 5) .. '}' ..
    ',"amount":' .. (counter % 900 + 5) .. ',"currency":"EUR","account_age_days":' .. (counter % 2000) ..
    ',"payment_method":"card"},' ..
    '"signals":{"fraud_model":0.' .. (counter % 90 + 10) .. ',"device_risk":0.3,"behaviour":0.2}}'
  return wrk.format("POST", "/v1/decisions",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end

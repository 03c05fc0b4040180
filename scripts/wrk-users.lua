-- wrk script: each connection is a user who waits a think time after every
-- answer before asking again (RTMS_BENCH_THINK_MS, default 25 ms), so 50
-- connections are 50 users at up to 50 * 1000 / (think + answer) requests/s,
-- instead of 50 clients asking as fast as they can.
local think = tonumber(os.getenv("RTMS_BENCH_THINK_MS") or "25")

function delay()
  return think
end

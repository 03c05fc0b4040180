-- wrk script: each connection is a user who waits a think time after every
-- answer before asking again, so 50 connections are 50 users at up to
-- 50 * 1000 / (think + answer) requests/s, instead of 50 clients asking as
-- fast as they can.
--
-- The think time is random, exponentially distributed with a mean of
-- RTMS_BENCH_THINK_MS (default 25 ms), as independent users' pauses are; set
-- RTMS_BENCH_THINK_FIXED=1 for the same pause every time. With a fixed pause
-- the users fall into step: reads answered together by one audit commit
-- pause alike and arrive again together, 50 at once.
local think = tonumber(os.getenv("RTMS_BENCH_THINK_MS") or "25")
local fixed = os.getenv("RTMS_BENCH_THINK_FIXED") == "1"

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (thread_number or 0))
end

function delay()
  if fixed then
    return think
  end
  -- At most ten means, so one user never stalls a short run.
  return math.floor(math.min(-think * math.log(1 - math.random()), 10 * think))
end

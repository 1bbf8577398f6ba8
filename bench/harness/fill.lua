-- SPDX-License-Identifier: MIT
-- wrk script of cache-memory: asks for N distinct URLs PREFIX0 .. PREFIX(N-1), one each, then
-- prints "fill: R responses, B not 200" and exits (wrk itself would run for all of -d).
--   wrk -t1 -cC -dLONG -s fill.lua URL -- PREFIX N
-- Past N requests (the last responses are still on their way) it asks for the first URLs
-- again: at most C requests more, all of them for objects already fetched.
local prefix, n = "/", 0
local sent, done, bad = 0, 0, 0

function init(args)
  prefix = args[1]
  n = tonumber(args[2])
end

function request()
  local i = sent % n
  sent = sent + 1
  return wrk.format("GET", prefix .. i)
end

function response(status, headers, body)
  done = done + 1
  if status ~= 200 then bad = bad + 1 end
  if done >= n then
    io.write(string.format("fill: %d responses, %d not 200\n", done, bad))
    io.flush()
    os.exit(0)
  end
end

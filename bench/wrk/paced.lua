-- A GET of the URL wrk is given, each connection pausing between its requests for
-- the milliseconds given as the script's argument: a steady load below saturation
-- (bench/run sets the pause for half the rate the full-load run reached).
dofile("bench/wrk/report.lua")

local pause = 0

function init(args)
  pause = tonumber(args[1]) or 0
end

function delay()
  return pause
end

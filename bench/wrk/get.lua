-- A GET of the URL wrk is given, the same request every time.
dofile("bench/wrk/report.lua")

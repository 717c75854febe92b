-- POST /api/users/auth/login with one customer's email and password (the arguments),
-- the same body every time: each request verifies the argon2id hash and starts a
-- session.
dofile("bench/wrk/report.lua")

wrk.method = "POST"
wrk.path = "/api/users/auth/login"
wrk.headers["content-type"] = "application/json"

function init(args)
  wrk.body = string.format('{"email":"%s","password":"%s"}', args[1], args[2])
end

-- wrk script: submit one tool call per request to POST /v1/decisions.
-- TOKEN (agent token) and BODY (optional JSON) come from the environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = os.getenv("BODY") or
  '{"tool":"Bash","input":{"command":"cargo build --release"},"context":{"session":"bench/main","cwd":"/src"}}'

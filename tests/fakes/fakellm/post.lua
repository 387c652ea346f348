-- wrk script for fakellm: POST a small OpenAI chat completion.
--   wrk -t1 -c16 -d5s -s tests/fakes/fakellm/post.lua http://127.0.0.1:PORT/v1/chat/completions
-- FAKELLM_BODY=path/to/request.json replaces the built-in body;
-- FAKELLM_STREAM=1 asks for an SSE stream (24 chunks + finish + [DONE]).
local path = os.getenv("FAKELLM_BODY")
if path and path ~= "" then
  local f = assert(io.open(path, "rb"))
  wrk.body = f:read("*a"):gsub("%s+$", "")
  f:close()
else
  local stream = os.getenv("FAKELLM_STREAM") == "1" and '"stream":true,' or ""
  wrk.body = '{"model":"gpt-4o-mini",' .. stream ..
             '"messages":[{"role":"system","content":"You are a concise assistant."},' ..
             '{"role":"user","content":"Say hello to the benchmark."}],"max_tokens":64}'
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-not-a-real-key"

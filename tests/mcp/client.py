"""An MCP client driven by a JSON script, using the official Python SDK, for
gatehouse's end-to-end tests.

usage: client.py STEPS_JSON -- SERVER_COMMAND...
       client.py STEPS_JSON --url http://127.0.0.1:PORT/mcp

STEPS_JSON is a list of steps; one JSON result per step is printed as a JSON
array on stdout:
  {"op": "list"}                                   -> {"tools": [names], "annotations": {name: {...}}}
  {"op": "call", "tool": T, "args": {...},         -> {"isError": bool, "text": "..."} or {"error": "..."}
   "progress": true, "timeout": secs}                 (+ "progress": [messages] when asked for)
  {"op": "cancel_after", "tool": T, "args": {...}, "secs": S}
                                                   -> {"cancelled": true} once the call was cancelled
"""

import json
import sys
from datetime import timedelta

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client


async def run_steps(session, steps):
    await session.initialize()
    results = []
    for step in steps:
        op = step["op"]
        if op == "list":
            listed = await session.list_tools()
            results.append(
                {
                    "tools": [t.name for t in listed.tools],
                    "annotations": {
                        t.name: t.annotations.model_dump(exclude_none=True)
                        for t in listed.tools
                        if t.annotations is not None
                    },
                }
            )
        elif op == "call":
            progress = []

            async def on_progress(value, total, message):
                progress.append(message)
                print(f"client: progress {value} {message}", file=sys.stderr, flush=True)

            try:
                res = await session.call_tool(
                    step["tool"],
                    step.get("args", {}),
                    read_timeout_seconds=step.get("timeout"),
                    progress_callback=on_progress if step.get("progress") else None,
                )
                text = " ".join(c.text for c in res.content if getattr(c, "type", "") == "text")
                out = {"isError": bool(res.is_error), "text": text}
            except Exception as e:  # the result of the step is the error
                out = {"error": str(e)}
            if step.get("progress"):
                out["progress"] = progress
            results.append(out)
        elif op == "cancel_after":
            with anyio.move_on_after(step["secs"]) as scope:
                await session.call_tool(step["tool"], step.get("args", {}))
            results.append({"cancelled": scope.cancel_called})
        else:
            raise SystemExit(f"unknown op {op}")
    return results


async def main():
    steps = json.loads(sys.argv[1])
    if sys.argv[2] == "--":
        params = StdioServerParameters(command=sys.argv[3], args=sys.argv[4:], env=dict(__import__("os").environ))
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                results = await run_steps(session, steps)
    elif sys.argv[2] == "--url":
        from mcp.client.streamable_http import streamable_http_client

        async with streamable_http_client(sys.argv[3]) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                results = await run_steps(session, steps)
    else:
        raise SystemExit(__doc__)
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    anyio.run(main)

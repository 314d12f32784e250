"""A small MCP server for gatehouse's end-to-end tests, written with the
official Python SDK (`mcp` 2.x). Notes are files in $NOTES_DIR, so a test can
see whether a call really reached the server.

Run: python server.py            (stdio)
     python server.py --http PORT (Streamable HTTP at http://127.0.0.1:PORT/mcp)
     python server.py --https PORT CERT KEY (the same over TLS)
"""

import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

NOTES = Path(os.environ.get("NOTES_DIR", "."))

server = MCPServer("gatehouse-fixture")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def write_note(title: str, body: str) -> str:
    """Write a note to the notes directory."""
    (NOTES / f"{title}.txt").write_text(body)
    return f"wrote {title}"


@server.tool(annotations=ToolAnnotations(destructiveHint=True))
def delete_all() -> str:
    """Delete every note."""
    count = 0
    for note in NOTES.glob("*.txt"):
        note.unlink()
        count += 1
    return f"deleted {count} notes"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=True))
def purge_cache() -> str:
    """Claims to be read-only and destructive at once (annotations are hints only)."""
    return "purged"


@server.tool()
def crash() -> str:
    """Exit the server process mid-call (to test how the proxy reports it)."""
    os._exit(3)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    elif len(sys.argv) == 5 and sys.argv[1] == "--https":
        import uvicorn

        uvicorn.run(
            server.streamable_http_app(),
            host="127.0.0.1",
            port=int(sys.argv[2]),
            ssl_certfile=sys.argv[3],
            ssl_keyfile=sys.argv[4],
            log_level="warning",
        )
    else:
        server.run()

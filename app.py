"""Start the web UI:  python app.py [--host HOST] [--port PORT]

Settings come from ASSISTANT_* environment variables (see assistant/config.py): ASSISTANT_HOST,
ASSISTANT_PORT (Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT work too; ours win when both are set, and
--host/--port win over all), ASSISTANT_CONCURRENCY, ASSISTANT_ADMIN_PASSWORD (enables adding/removing documents),
ASSISTANT_DATA_DIR (feedback database), ASSISTANT_CORPUS_DIR, ASSISTANT_INDEX_DIR.
"""
from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Web UI for the children's trusts and well-being assistant.")
    parser.add_argument("--host", help="address to listen on (default: ASSISTANT_HOST, GRADIO_SERVER_NAME or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: ASSISTANT_PORT, GRADIO_SERVER_PORT or 7860)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # a PDF export logged ~110 subsetting lines
    from assistant.safety.privacy import RedactingFilter

    for handler in logging.getLogger().handlers:  # no personal details in the log, whoever logs them
        handler.addFilter(RedactingFilter())

    from assistant import Assistant, AssistantError
    from assistant.interfaces.web_launch import launch

    try:
        assistant = Assistant()
    except AssistantError as exc:  # e.g. a bad ASSISTANT_* setting: one plain line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    launch(assistant, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

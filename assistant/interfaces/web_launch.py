"""Serving the web UI: ``launch`` builds the app (``web.build_app``) and serves it until stopped.

Its own module so that what a person sees in the terminal at start-up is decided in one place: Gradio's
own start-up lines are switched off (``quiet``: its "To create a public link, set share=True" hint sits
oddly beside "nothing leaves this machine", and this app never makes a share link), and one plain line
says where the app is and how to stop it.
"""
from __future__ import annotations

import logging
import os
import sys
import threading

from .. import identity
from ..safety import pii
from ..service import Assistant
from . import web_files
from .web import build_app
from .web_assets import CSS, head, theme
from .web_bank_html import CSS as BANK_CSS
from .web_layout import CSS as LAYOUT_CSS
from .web_training import CSS as TRAINING_CSS

log = logging.getLogger("assistant.ui")


def warm_up(assistant: Assistant) -> threading.Thread:
    """Load the model and the index in the background so the first question is quick."""
    def run():
        try:
            assistant.sources()
            pii.load()  # then the personal-data check of what is stored, so the first feedback does not wait
        except Exception:  # the first question will report it plainly
            log.exception("warm-up failed")
    thread = threading.Thread(target=run, name="assistant-warm-up", daemon=True)
    thread.start()
    return thread


def ready_line(url: str, guarded: bool) -> str:
    """What the terminal shows once the app serves: where to open it and how to stop it."""
    local = " Nothing leaves this machine." if guarded else ""
    return f"Ready: open {url} in your browser. Press Ctrl+C to stop.{local}"


def launch(assistant: Assistant | None = None, host: str | None = None, port: int | None = None, **kwargs):
    """Build and serve the app (blocks until stopped, unless ``prevent_thread_lock=True``). Outbound
    network connections are refused in this process (``assistant.safety.netguard``) unless
    ASSISTANT_ALLOW_NETWORK is set."""
    from ..safety.netguard import install_from_settings

    assistant = assistant or Assistant()
    settings = assistant.settings
    guarded = install_from_settings(settings)
    if guarded and "uvloop" not in sys.modules:
        # uvloop resolves host names in C, out of the guard's sight; asyncio's loop goes through Python's
        # socket module, so a client-supplied URL (Gradio fetches FileData links) is refused too.
        sys.modules["uvloop"] = None
    # uvicorn rewrites the client address from X-Forwarded-For when the connection comes from a host in
    # FORWARDED_ALLOW_IPS (default: this machine). Any client can send that header, so only the proxies
    # named in ASSISTANT_TRUSTED_PROXIES are believed; otherwise the admin lockout could be side-stepped.
    os.environ["FORWARDED_ALLOW_IPS"] = settings.trusted_proxies
    folder = web_files.prepare(settings)  # before the app is built: Gradio reads GRADIO_TEMP_DIR then
    web_files.start_sweeper(folder, settings.temp_max_age)
    demo = build_app(assistant)
    warm_up(assistant)
    options = dict(server_name=host or settings.host, server_port=port or settings.port, theme=theme(),
                   css=CSS + TRAINING_CSS + BANK_CSS + LAYOUT_CSS, head=head(identity.of_settings(settings).page_description), max_file_size=settings.max_upload_bytes,
                   show_error=True, footer_links=["api", "settings"], run_history=False, enable_monitoring=False,
                   quiet=True, app_kwargs={"middleware": [web_files.middleware(settings, folder)]})
    options.update(kwargs)
    block = not options.get("prevent_thread_lock")
    options["prevent_thread_lock"] = True
    served = demo.launch(**options)
    print(ready_line(demo.local_url, bool(guarded)), flush=True)
    if block:
        demo.block_thread()
    return served

""""Save as Markdown" / "Save as PDF": the conversation exported only when asked, never written to disk.

Before, every answer wrote a Markdown and a PDF of the whole conversation into Gradio's cache
(world-readable, never deleted, growing with the square of the conversation's length), and a failed
write (full temp disk) replaced the answer with a raw errno. Now the buttons only become clickable with
the first answer; a click makes the file in memory (``assistant.export``) and hands it to the browser
through a hidden HTML component, whose script turns it into a download (a ``blob:`` URL). Nothing of a
conversation touches the server's disk, so there is nothing to protect or delete, and a full disk cannot
cost an answer. If making the file fails, one line says that saving is unavailable; the answers stay.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets

import gradio as gr

from .. import export
from .web_html import e, say

log = logging.getLogger("assistant.ui")

FORMATS = {"md": ("Markdown", "text/markdown;charset=utf-8", "md"), "pdf": ("PDF", "application/pdf", "pdf")}
UNAVAILABLE = "Saving is unavailable just now; your answers are not affected."

# Runs in the browser: a new file in the hidden component's value becomes a download, then the value is
# emptied so the conversation does not stay in the page longer than needed.
SAVE_JS = r"""
watch('value', () => {
  const v = props.value;
  if (!v) return;
  let f;
  try { f = JSON.parse(v); } catch (err) { return; }
  const raw = atob(f.data);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], {type: f.type}));
  const a = document.createElement('a');
  a.href = url; a.download = f.name; a.style.display = 'none';
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  props.value = '';
});
"""


def enabled(turns: list[dict]):
    """Updates for the two buttons: clickable once the conversation holds an answer."""
    on = any(t.get("answer") for t in turns)
    return gr.update(interactive=on), gr.update(interactive=on)


def disabled():
    return gr.update(interactive=False), gr.update(interactive=False)


def payload(turns: list[dict], fmt: str) -> str:
    """The file for the browser: JSON {name, type, data (base64)}; raises if it cannot be made."""
    done = [t for t in turns if t.get("answer")]
    data = export.to_markdown(done).encode("utf-8") if fmt == "md" else export.to_pdf(done)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    _, mime, ext = FORMATS[fmt]
    return json.dumps({"name": f"conversation-{stamp}.{ext}", "type": mime,
                       "data": base64.b64encode(data).decode("ascii"), "nonce": secrets.token_hex(4)})


def save(turns: list[dict], fmt: str):
    """Click handler: (file for the browser, note line, announcement)."""
    if not any(t.get("answer") for t in turns):
        return gr.skip(), "", say("Ask a question first; there is nothing to save yet.")
    try:
        file = payload(turns, fmt)
    except Exception:  # MemoryError, a font problem, ...: the answers stay, one line says so
        log.exception("export failed")
        return gr.skip(), f'<p class="save-note" role="status">{e(UNAVAILABLE)}</p>', say(UNAVAILABLE)
    return file, "", say(f"{FORMATS[fmt][0]} file of the conversation made; your browser is saving it.")


class ExportButtons:
    """The two buttons (where the layout puts them), a note line, and the hidden file carrier."""

    def __init__(self):
        self.md = gr.Button("Save as Markdown", interactive=False, size="sm", elem_id="export-md", min_width=120)
        self.pdf = gr.Button("Save as PDF", interactive=False, size="sm", elem_id="export-pdf", min_width=120)
        self.note = gr.HTML("", elem_id="export-note")
        self.file = gr.HTML("", html_template="", visible="hidden", elem_id="export-file", js_on_load=SAVE_JS)

    def wire(self, turns, announce, clear_btn, **private) -> None:
        clear_btn.click(lambda: "", None, self.note, queue=False, show_progress="hidden", **private)
        for button, fmt in ((self.md, "md"), (self.pdf, "pdf")):
            button.click(lambda t, fmt=fmt: save(t, fmt), [turns], [self.file, self.note, announce],
                         show_progress="hidden", **private)

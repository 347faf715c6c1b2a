"""Page-level layout of the web UI that no one tab owns: the tab bar on a phone, the Manage library form
on a phone, and what the Manage library tab says when library management is switched off.

Issue 31: at 390 px Gradio hid Quiz and Manage library behind an unlabelled "⋯" (``gr.Tabs`` now wraps, and
the tabs are a little tighter so all five usually fit one row); the admin form's fields sat three to a
row; and the switched-off tab named only an environment variable, not how to use it.
"""
from __future__ import annotations

from .web_html import e

ADMIN_OFF_COMMAND = "ASSISTANT_ADMIN_PASSWORD=choose-a-password make run"


def admin_off_html() -> str:
    """The switched-off Manage library tab, in plain words: how to turn library management on."""
    return (f'<div class="admin-off" role="note"><p><strong>Library management is switched off on this server.'
            f'</strong> To switch it on, stop the app (press Ctrl+C in the window where it runs) and start it again '
            f'with a password of your choice:</p><pre class="admin-off-cmd"><code>{e(ADMIN_OFF_COMMAND)}</code></pre>'
            f'<p>Then type the same password in <strong>Admin password</strong> below to add or remove documents. '
            f'Anyone with the password can change the library for everyone, so choose one only managers know.</p>'
            f'</div>')


CSS = r"""
.admin-off { border: 1px solid var(--line); border-left: 5px solid var(--accent); background: var(--accent-soft);
             color: var(--ink); border-radius: 8px; padding: .6rem .9rem; margin: .3rem 0 .6rem; }
.admin-off p { margin: .2rem 0; display: block; }
.admin-off-cmd { margin: .45rem 0; padding: .45rem .7rem; background: var(--card); border: 1px solid var(--line);
                 border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .95rem; }
@media (max-width: 700px) {
  .tab-container[role=tablist] { column-gap: 0; }
  .tab-container[role=tablist] > button[role=tab] { padding: 0 .42rem; font-size: .95rem; }
  #admin-tab .row { flex-direction: column; }
  #admin-tab .row > * { min-width: 0 !important; width: 100%; }
}
"""

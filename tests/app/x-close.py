#!/usr/bin/python3
"""Closes a window as a window manager's close button does: sends WM_DELETE_WINDOW (a
WM_PROTOCOLS client message, ICCCM 4.2.8.1) to each viewable top-level window titled TITLE on
$DISPLAY, so the app sees a close request (Tauri's CloseRequested), not a destroyed window.
Xvfb runs no window manager, and WebDriver's "close window" destroys only the webview. Prints
the PID the window names (_NET_WM_PID) of the first one; exits 1 when there is none.
`--viewable TITLE` sends nothing and prints how many such windows are viewable. Needs
Debian's python3-xlib (tests/app/install). Used by tests/app/push-locked.test.mjs."""
import sys

from Xlib import X, display, protocol


def main():
    args = sys.argv[1:]
    only_count = args[:1] == ["--viewable"]
    if only_count:
        args = args[1:]
    if len(args) != 1:
        sys.exit("usage: x-close.py [--viewable] TITLE")
    title = args[0]
    d = display.Display()
    root = d.screen().root
    protocols = d.intern_atom("WM_PROTOCOLS")
    delete = d.intern_atom("WM_DELETE_WINDOW")
    net_pid = d.intern_atom("_NET_WM_PID")
    pids = []
    for w in root.query_tree().children:
        if w.get_attributes().map_state != X.IsViewable or w.get_wm_name() != title:
            continue
        if delete not in (w.get_wm_protocols() or []):
            continue
        pid = w.get_full_property(net_pid, X.AnyPropertyType)
        pids.append(pid.value[0] if pid else 0)
        if only_count:
            continue
        event = protocol.event.ClientMessage(window=w, client_type=protocols,
                                             data=(32, [delete, X.CurrentTime, 0, 0, 0]))
        w.send_event(event, event_mask=X.NoEventMask)
    d.flush()
    if only_count:
        print(len(pids))
        return
    if not pids:
        sys.exit(f"no viewable window titled {title!r}")
    print(pids[0])


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A desktop notification server that records: owns org.freedesktop.Notifications on the
session bus (the test's private one, under dbus-run-session), answers Notify with an id as a
notification daemon does, and appends each call as one JSON line (wall-clock time in ms,
app name, summary, body) to the log file named as its argument. The log file appears only
once the name is owned, so a caller waits for the file. Needs Debian's python3-dbus and
python3-gi (tests/app/install). Used by tests/app/push-locked."""
import json
import os
import sys
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


class Recorder(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, PATH)
        self.log = log
        self.next_id = 0

    @dbus.service.method(NAME, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, icon, summary, body, actions, hints, timeout):
        at = time.time() * 1000
        self.next_id += 1
        line = {"t": at, "id": self.next_id, "app": str(app_name),
                "summary": str(summary), "body": str(body)}
        self.log.write(json.dumps(line) + "\n")
        self.log.flush()
        return dbus.UInt32(self.next_id)

    @dbus.service.method(NAME, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body"]

    @dbus.service.method(NAME, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("twofold-notify-recorder", "twofold", "1", "1.2")

    @dbus.service.method(NAME, in_signature="u", out_signature="")
    def CloseNotification(self, notification_id):
        self.NotificationClosed(notification_id, 3)

    @dbus.service.signal(NAME, signature="uu")
    def NotificationClosed(self, notification_id, reason):
        pass


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: notify-recorder.py LOG")
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    owned = bus.request_name(NAME, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
    if owned != dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER:
        sys.exit(f"cannot own {NAME} on this session bus (another notification server?)")
    tmp = sys.argv[1] + ".tmp"
    log = open(tmp, "w", encoding="utf-8")
    Recorder(bus, log)
    os.rename(tmp, sys.argv[1])
    # Ends with the session bus (dbus-run-session's end) or by SIGTERM from its starter.
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A UnifiedPush distributor stand-in for the tests (spec DBUS_0.3.0,
https://unifiedpush.org/developers/spec/dbus/), written on python3-dbus, an implementation
independent of the app's zbus:

- owns org.unifiedpush.Distributor.twofoldtest on the session bus and implements
  org.unifiedpush.Distributor1 at /org/unifiedpush/Distributor: Register(s service, s token,
  s description) -> (s result, s reason) answers REGISTRATION_SUCCEEDED and then calls the
  app's org.unifiedpush.Connector1.NewEndpoint(token, endpoint) at /org/unifiedpush/Connector
  (a known token keeps its endpoint); Unregister(s token) forgets it and calls Unregistered;
- plays the push server on 127.0.0.1: a POST to an endpoint (http://127.0.0.1:<port>/up/<n>)
  is handed to the registered app's Connector1.Message(token, ay body, s id) byte for byte,
  and answered 201 (404 for an unknown endpoint, 413 over 8 KiB).

Prints "ready <port>" on stdout once the bus name and the port are taken; logs one line per
call on stderr (never a body). Runs until killed.
"""
import itertools
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

NAME = "org.unifiedpush.Distributor.twofoldtest"
CONNECTOR = "org.unifiedpush.Connector1"
MAX_BODY = 8192

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
lock = threading.Lock()
by_token = {}  # token -> (service, endpoint id)
by_id = {}  # endpoint id -> (service, token)
ids = itertools.count(1)
port = 0


def log(text):
    print(f"distributor: {text}", file=sys.stderr, flush=True)


def connector(service):
    return dbus.Interface(bus.get_object(service, "/org/unifiedpush/Connector"), CONNECTOR)


def call(service, method, *args):
    # The spec: the caller does not wait for an answer.
    def run():
        try:
            getattr(connector(service), method)(*args, ignore_reply=True)
        except dbus.DBusException as e:
            log(f"{method} to {service} failed: {e}")
        return False

    GLib.idle_add(run)


class Distributor(dbus.service.Object):
    @dbus.service.method("org.unifiedpush.Distributor1", in_signature="sss", out_signature="ss")
    def Register(self, service, token, description):
        if not token or len(token.encode()) > 100:
            return ("REGISTRATION_FAILED", "the token is empty or longer than 100 bytes")
        with lock:
            if token in by_token:
                endpoint_id = by_token[token][1]
            else:
                endpoint_id = next(ids)
                by_token[token] = (str(service), endpoint_id)
                by_id[endpoint_id] = (str(service), str(token))
        endpoint = f"http://127.0.0.1:{port}/up/{endpoint_id}"
        log(f"Register {service} ({description}) -> /up/{endpoint_id}")
        call(service, "NewEndpoint", token, endpoint)
        return ("REGISTRATION_SUCCEEDED", "")

    @dbus.service.method("org.unifiedpush.Distributor1", in_signature="s", out_signature="")
    def Unregister(self, token):
        with lock:
            entry = by_token.pop(token, None)
            if entry:
                by_id.pop(entry[1], None)
        if entry:
            log(f"Unregister /up/{entry[1]}")
            call(entry[0], "Unregistered", "")


class PushServer(BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            endpoint_id = int(self.path.rsplit("/", 1)[-1])
        except ValueError:
            endpoint_id = -1
        with lock:
            target = by_id.get(endpoint_id)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_response(413)
            self.end_headers()
            return
        body = self.rfile.read(length)
        if not self.path.startswith("/up/") or target is None:
            self.send_response(404)
            self.end_headers()
            return
        service, token = target
        # t: when the push service got the message (ms since the epoch), for the test's figures.
        log(f"POST /up/{endpoint_id}: {len(body)} bytes, {self.headers.get('Content-Encoding')}, t={time.time() * 1000:.0f}")
        call(service, "Message", token, dbus.ByteArray(body), "")
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    global port
    server = ThreadingHTTPServer(("127.0.0.1", 0), PushServer)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    name = dbus.service.BusName(NAME, bus, do_not_queue=True)
    Distributor(name, "/org/unifiedpush/Distributor")
    print(f"ready {port}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""smtp-mitm-proxy.py - a tiny SMTP man-in-the-middle used to make tlsobs test
captures (see scripts/make-fixtures.sh).

The client connects to the proxy as if it were the mail server; the proxy opens
its own connection to the real server and relays both directions, tampering
with the plaintext SMTP dialogue according to --mode:

  pass              relay unchanged (control)
  mask              rewrite the server's "250-STARTTLS" capability as
                    "250-XXXXXXXA" (same length, as seen in the wild)
  remove            delete the STARTTLS capability line from the EHLO reply
  rewrite-command   rewrite the client's "STARTTLS" command as "XXXXXXXX"
                    (the server answers 500/502)
  refuse            answer the client's STARTTLS itself with
                    "454 4.7.0 TLS not available due to local problem"
                    (the server never sees the STARTTLS)
  inject-command    append "RSET\\r\\n" after the client's STARTTLS line, in
                    the same write (plaintext command injection)
  inject-response   append "250 injected\\r\\n" after the server's 220 reply to
                    STARTTLS, in the same write (response injection)
  kill-handshake    let STARTTLS/220 through, then reset both connections
                    (TCP RST) when the client's first TLS bytes (ClientHello)
                    arrive; the ClientHello is not forwarded
  refuse-ehlo       answer the client's EHLO itself with
                    "502 5.5.2 Error: command not recognized" (the server
                    never sees it); a following HELO is relayed as usual
  fake-220          answer the client's STARTTLS itself with
                    "220 2.0.0 Ready to start TLS" (the server never sees
                    it); when the client's TLS bytes (ClientHello) arrive,
                    send "554 5.7.0 TLS not available" in clear text and close
                    both connections

Once the server has accepted STARTTLS (220) the proxy relays raw bytes in both
directions (it never terminates TLS). DATA content and BDAT chunks are relayed
verbatim and never tampered with.

Only ever used between network namespaces created by make-fixtures.sh.
"""

import argparse
import asyncio
import logging
import socket
import struct
import sys

MODES = ("pass", "mask", "remove", "rewrite-command", "refuse",
         "inject-command", "inject-response", "kill-handshake", "refuse-ehlo", "fake-220")

REFUSE_REPLY = b"454 4.7.0 TLS not available due to local problem\r\n"
INJECTED_REPLY = b"250 injected\r\n"
INJECTED_COMMAND = b"RSET\r\n"
EHLO_REFUSED_REPLY = b"502 5.5.2 Error: command not recognized\r\n"
FAKE_220_REPLY = b"220 2.0.0 Ready to start TLS\r\n"
FAKE_220_AFTER_HELLO = b"554 5.7.0 TLS not available\r\n"

log = logging.getLogger("smtp-mitm-proxy")


def is_starttls_cap(line: bytes) -> bool:
    """True for an EHLO reply line advertising STARTTLS (250-STARTTLS / 250 STARTTLS)."""
    return (len(line) >= 12 and line[:3] == b"250" and line[3:4] in (b"-", b" ")
            and line[4:12].upper() == b"STARTTLS")


def abort_with_rst(writer: asyncio.StreamWriter) -> None:
    """Close a connection with a TCP RST (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


def half_close(writer: asyncio.StreamWriter) -> None:
    """Pass an EOF (FIN) on, unless that side is already gone."""
    try:
        if not writer.transport.is_closing() and writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


class Session:
    counter = 0

    def __init__(self, mode, creader, cwriter, sreader, swriter):
        Session.counter += 1
        self.id = Session.counter
        self.mode = mode
        self.cr, self.cw, self.sr, self.sw = creader, cwriter, sreader, swriter
        self.starttls_pending = False   # client's STARTTLS was forwarded, reply not seen yet
        self.tls = asyncio.Event()      # server said 220 to STARTTLS: raw relay from now on
        self.killed = False
        self.fake_tls = False           # fake-220: we said 220 ourselves, the next bytes are TLS

    def info(self, fmt, *args):
        log.info("[%d] " + fmt, self.id, *args)

    async def client_to_server(self):
        buf = b""
        in_data = False       # between DATA and the lone "."
        bdat_left = 0         # bytes of BDAT chunk still to relay verbatim
        while True:
            chunk = await self.cr.read(65536)
            if not chunk:
                break
            if self.fake_tls:
                self.killed = True
                self.info("client sent %d bytes after our fake 220 (first byte 0x%02x): "
                          "answering %r in clear and closing", len(chunk), chunk[0],
                          FAKE_220_AFTER_HELLO)
                self.cw.write(FAKE_220_AFTER_HELLO)
                await self.cw.drain()
                self.cw.close()
                self.sw.close()
                return
            if self.tls.is_set():
                if self.mode == "kill-handshake" and not self.killed:
                    self.killed = True
                    self.info("client sent %d bytes after 220 (ClientHello, first byte 0x%02x): "
                              "resetting both connections", len(chunk), chunk[0])
                    abort_with_rst(self.cw)
                    abort_with_rst(self.sw)
                    return
                self.sw.write(buf + chunk)
                buf = b""
                await self.sw.drain()
                continue
            buf += chunk
            out = b""
            while buf:
                if bdat_left:
                    take = min(bdat_left, len(buf))
                    out += buf[:take]
                    buf = buf[take:]
                    bdat_left -= take
                    continue
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                line, buf = buf[:nl + 1], buf[nl + 1:]
                if in_data:
                    if line in (b".\r\n", b".\n"):
                        in_data = False
                    out += line
                    continue
                verb = line.strip().upper()
                if self.mode == "refuse-ehlo" and verb.startswith(b"EHLO"):
                    self.info("answering client EHLO with 502 ourselves")
                    self.cw.write(EHLO_REFUSED_REPLY)
                    await self.cw.drain()
                    continue
                if verb == b"DATA":
                    in_data = True
                elif verb.startswith(b"BDAT "):
                    try:
                        bdat_left = int(verb.split()[1])
                    except (IndexError, ValueError):
                        bdat_left = 0
                elif verb == b"STARTTLS":
                    if self.mode == "rewrite-command":
                        self.info("rewriting client STARTTLS -> XXXXXXXX")
                        line = b"XXXXXXXX" + line[8:]
                    elif self.mode == "refuse":
                        self.info("answering client STARTTLS with 454 ourselves")
                        self.cw.write(REFUSE_REPLY)
                        await self.cw.drain()
                        continue
                    elif self.mode == "fake-220":
                        self.info("answering client STARTTLS with a fake 220 ourselves")
                        self.cw.write(FAKE_220_REPLY)
                        await self.cw.drain()
                        self.fake_tls = True
                        buf = b""       # nothing else expected before the ClientHello
                        break
                    elif self.mode == "inject-command":
                        self.info("injecting %r after client STARTTLS", INJECTED_COMMAND)
                        line = line + INJECTED_COMMAND
                        self.starttls_pending = True
                    else:
                        self.starttls_pending = True
                out += line
            if out:
                self.sw.write(out)
                await self.sw.drain()
        if buf:
            self.sw.write(buf)
        half_close(self.sw)

    async def server_to_client(self):
        buf = b""
        reply = []            # lines of the multi-line reply being collected
        while True:
            chunk = await self.sr.read(65536)
            if not chunk:
                break
            if self.tls.is_set():
                self.cw.write(chunk)
                await self.cw.drain()
                continue
            buf += chunk
            out = b""
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                line, buf = buf[:nl + 1], buf[nl + 1:]
                reply.append(line)
                if line[3:4] == b"-":
                    continue          # more lines of this reply follow
                out += self.tamper_reply(reply)
                code = reply[0][:3]
                reply = []
                if self.starttls_pending:
                    self.starttls_pending = False
                    if code == b"220":
                        self.info("server accepted STARTTLS: switching to raw relay")
                        if self.mode == "inject-response":
                            self.info("injecting %r after server 220", INJECTED_REPLY)
                            out += INJECTED_REPLY
                        self.tls.set()
                        out += buf          # nothing expected, but never drop bytes
                        buf = b""
                        break
            if out:
                self.cw.write(out)
                await self.cw.drain()
        if not self.killed:
            half_close(self.cw)

    def tamper_reply(self, lines):
        if self.mode == "mask":
            new = []
            for l in lines:
                if is_starttls_cap(l):
                    self.info("masking %r", l.strip())
                    l = l[:4] + b"XXXXXXXA" + l[12:]
                new.append(l)
            return b"".join(new)
        if self.mode == "remove" and any(is_starttls_cap(l) for l in lines):
            self.info("removing STARTTLS capability")
            new = [l for l in lines if not is_starttls_cap(l)]
            if new and new[-1][3:4] == b"-":      # STARTTLS was the last line
                new[-1] = new[-1][:3] + b" " + new[-1][4:]
            return b"".join(new)
        return b"".join(lines)


async def handle(mode, upstream, creader, cwriter):
    peer = cwriter.get_extra_info("peername")
    try:
        sreader, swriter = await asyncio.open_connection(upstream[0], upstream[1])
    except OSError as e:
        log.error("upstream connect failed: %s", e)
        abort_with_rst(cwriter)
        return
    s = Session(mode, creader, cwriter, sreader, swriter)
    s.info("client %s -> upstream %s:%d, mode %s", peer, upstream[0], upstream[1], mode)
    tasks = [asyncio.create_task(s.client_to_server()),
             asyncio.create_task(s.server_to_client())]
    try:
        for fut in asyncio.as_completed(tasks):
            try:
                await fut
            except (ConnectionError, OSError) as e:
                # one side reset the connection: reset the other one too
                s.info("connection error: %s", e)
                abort_with_rst(cwriter)
                abort_with_rst(swriter)
    finally:
        for w in (cwriter, swriter):
            if not w.transport.is_closing():
                w.close()
        s.info("closed")


def hostport(v, default_port):
    if v.startswith("["):
        host, _, rest = v[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if v.count(":") == 1:
        host, port = v.split(":")
        return host, int(port)
    return v, default_port


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:2525", help="address[:port] to listen on")
    ap.add_argument("--upstream", required=True, help="real server address[:port] (port 25 default)")
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--log", help="log file (default stderr)")
    a = ap.parse_args()
    logging.basicConfig(filename=a.log, level=logging.INFO,
                        format="%(asctime)s %(name)s %(message)s")
    lhost, lport = hostport(a.listen, 25)
    upstream = hostport(a.upstream, 25)
    server = await asyncio.start_server(lambda r, w: handle(a.mode, upstream, r, w),
                                        lhost, lport, reuse_address=True)
    log.info("listening on %s:%d, upstream %s:%d, mode %s", lhost, lport, *upstream, a.mode)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

"""A scripted WebSocket server (picows) on 127.0.0.1 for connection tests: after the
client's first (subscribe) message it sends `script` messages, then optionally drops."""
import asyncio

from picows import WSListener, WSMsgType, ws_create_server


class ScriptServer:
    def __init__(self, script_for_connection, drop_after=None, fragment=False):
        self.script_for_connection = script_for_connection  # n -> list[bytes]
        self.drop_after = drop_after
        self.fragment = fragment
        self.connections = 0
        self.received: list[bytes] = []
        self.server = None

    async def start(self):
        outer = self

        class L(WSListener):
            def on_ws_connected(self, transport):
                outer.connections += 1
                self.n = outer.connections
                self.sent = False

            def on_ws_frame(self, transport, frame):
                if frame.msg_type != WSMsgType.TEXT:
                    return
                data = frame.get_payload_as_bytes()
                outer.received.append(data)
                if data == b"ping":
                    transport.send(WSMsgType.TEXT, b"pong")
                    return
                if not self.sent:
                    self.sent = True
                    for m in outer.script_for_connection(self.n):
                        if outer.fragment and len(m) > 4:
                            transport.send(WSMsgType.TEXT, m[:3], fin=False)
                            transport.send(WSMsgType.CONTINUATION, m[3:], fin=True)
                        else:
                            transport.send(WSMsgType.TEXT, m)
                    if outer.drop_after and self.n <= outer.drop_after:
                        transport.disconnect()

        self.server = await ws_create_server(lambda req: L(), "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/"

    async def stop(self):
        self.server.close()
        await self.server.wait_closed()

"""Deribit's authorized WebSocket session against the simulator over real WebSockets on
127.0.0.1: `public/auth` (client_credentials, client_signature, refresh_token) checked against an
account opened on the simulator, the per-change `book.{instrument}.raw` / `trades.{instrument}.raw`
channels refused to an unauthorized connection (13778) and served to an authorized one, each
change its own notification with a contiguous change_id / prev_change_id chain, each trade its
own notification; the 100 ms channel's sequence untouched beside it.

Formats: https://docs.deribit.com/api-reference/authentication/public-auth,
https://docs.deribit.com/articles/authentication (client signature: hex HMAC-SHA256 of
timestamp + "\\n" + nonce + "\\n" + data with the client secret),
https://docs.deribit.com/subscriptions/orderbook/bookinstrument_nameinterval (change_id chain).
Credentials are made up in memory."""
import asyncio
import hashlib
import hmac
import json
import secrets
import time
from decimal import Decimal

import aiohttp

from nexus.sim import Simulator

INST = "BTC-PERPETUAL"
RAW = [f"book.{INST}.raw", f"trades.{INST}.raw"]


class Rpc:
    def __init__(self, ws) -> None:
        self.ws, self.n, self.notes = ws, 0, []

    async def call(self, method: str, params: dict) -> dict:
        self.n += 1
        await self.ws.send_str(json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads((await self.ws.receive(timeout=10)).data, parse_float=Decimal)
            if msg.get("id") == self.n:
                return msg
            self.notes.append(msg)

    async def notes_for(self, seconds: float) -> list[dict]:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                m = await self.ws.receive(timeout=max(0.01, end - time.monotonic()))
            except asyncio.TimeoutError:
                break
            self.notes.append(json.loads(m.data, parse_float=Decimal))
        out, self.notes = self.notes, []
        return out


def _sign(secret: str, ts: int, nonce: str, data: str = "") -> str:
    return hmac.new(secret.encode(), f"{ts}\n{nonce}\n{data}".encode(), hashlib.sha256).hexdigest()


async def _session(body):
    key, secret = secrets.token_hex(4), secrets.token_hex(16)
    async with Simulator(seed=7, venues=["deribit"], epoch_ns=time.time_ns(), wall_clock=True) as sim:
        sim.open_account("deribit", key, secret)
        url = "ws" + sim.rest_url("deribit")[len("http"):] + "/ws/api/v2"
        async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
            return await body(sim, Rpc(ws), key, secret)


def test_auth_refusals_and_raw_refused_unauthorized():
    async def body(sim, rpc, key, secret):
        r = await rpc.call("public/subscribe", {"channels": RAW})
        assert r["error"] == {"message": "raw_subscriptions_not_available_for_unauthorized", "code": 13778}, r
        r = await rpc.call("private/subscribe", {"channels": [f"book.{INST}.100ms"]})
        assert r["error"]["code"] == 13009, r
        r = await rpc.call("public/auth", {"grant_type": "client_credentials", "client_id": key,
                                           "client_secret": secret[:-1] + ("0" if secret[-1] != "0" else "1")})
        assert r["error"] == {"message": "invalid_credentials", "code": 13004}, r
        r = await rpc.call("public/auth", {"grant_type": "client_credentials", "client_id": "nobody",
                                           "client_secret": secret})
        assert r["error"]["code"] == 13004, r
        ts = int(time.time() * 1000)
        bad = _sign(secret, ts, "abc")
        bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
        r = await rpc.call("public/auth", {"grant_type": "client_signature", "client_id": key, "timestamp": ts,
                                           "nonce": "abc", "data": "", "signature": bad})
        assert r["error"]["code"] == 13004, r
        r = await rpc.call("public/auth", {"grant_type": "client_signature", "client_id": key})
        assert r["error"]["code"] == -32602, r
        # still unauthorized after the failures
        r = await rpc.call("public/subscribe", {"channels": RAW[:1]})
        assert r["error"]["code"] == 13778, r
        # client_credentials right: authorized, and the token refreshes
        r = await rpc.call("public/auth", {"grant_type": "client_credentials", "client_id": key,
                                           "client_secret": secret})
        res = r["result"]
        assert res["token_type"] == "bearer" and res["scope"] == "connection mainaccount", res
        assert set(res) == {"access_token", "expires_in", "refresh_token", "scope", "enabled_features", "token_type"}
        r = await rpc.call("public/auth", {"grant_type": "refresh_token", "refresh_token": res["refresh_token"]})
        assert r["result"]["access_token"] != res["access_token"], r
        r = await rpc.call("public/auth", {"grant_type": "refresh_token", "refresh_token": res["access_token"]})
        assert r["error"]["code"] == 13004, r     # an access token is no refresh token
        r = await rpc.call("public/auth", {"grant_type": "client_signature", "client_id": key, "timestamp": ts,
                                           "nonce": "abc", "data": "", "signature": "\u00e9" * 64})
        assert r["error"]["code"] == 13004, r
        r = await rpc.call("public/subscribe", {"channels": RAW})
        assert r["result"] == RAW, r
    asyncio.run(_session(body))


def test_raw_channels_for_an_authorized_session():
    async def body(sim, rpc, key, secret):
        ts = int(time.time() * 1000)
        r = await rpc.call("public/auth", {"grant_type": "client_signature", "client_id": key, "timestamp": ts,
                                           "nonce": "xyz12345", "data": "", "signature": _sign(secret, ts, "xyz12345"),
                                           "scope": "session:abc"})
        assert r["result"]["scope"] == "session:abc mainaccount", r
        r = await rpc.call("private/subscribe", {"scope": "session:abc",
                                                 "channels": RAW + [f"book.{INST}.100ms"]})
        assert r["result"] == RAW + [f"book.{INST}.100ms"], r
        notes = await rpc.notes_for(3.0)   # with those that came in with the answers
        raw = [n["params"]["data"] for n in notes if n.get("params", {}).get("channel") == RAW[0]]
        slow = [n["params"]["data"] for n in notes if n.get("params", {}).get("channel") == f"book.{INST}.100ms"]
        trades = [n["params"]["data"] for n in notes if n.get("params", {}).get("channel") == RAW[1]]
        assert "prev_change_id" not in raw[0] and raw[0]["type"] == "snapshot"
        assert len(raw) > 3 * len(slow) > 0, (len(raw), len(slow))   # every change, not every 100 ms
        book: dict = {"bids": {}, "asks": {}}
        for i, d in enumerate(raw):
            if i:
                assert "prev_change_id" in d, [(x["type"], x["change_id"], len(x["bids"])) for x in raw[:i + 1]]
                assert d["prev_change_id"] == raw[i - 1]["change_id"] == d["change_id"] - 1, (raw[i - 1], d)
            for side in ("bids", "asks"):
                for action, px, amt in d[side]:
                    if action == "delete":
                        assert px in book[side], (d, px)     # deletes only levels the client holds
                        del book[side][px]
                    else:
                        assert (px in book[side]) == (action == "change") or i == 0, (action, px)
                        book[side][px] = amt
        # the 100 ms channel keeps its own contiguous chain
        for a, b in zip(slow[1:], slow[2:]):
            assert b["prev_change_id"] == a["change_id"] == b["change_id"] - 1
        assert trades and all(len(t) == 1 for t in trades), trades[:3]
        seqs = [t[0]["trade_seq"] for t in trades]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        # the client's book equals the simulator's raw publication at its last change_id
        pub = sim.book("deribit", channel=RAW[0], seq=raw[-1]["change_id"])
        top = lambda d, rev: [[str(p), str(q)] for p, q in sorted(d.items(), reverse=rev)[:10]]  # noqa: E731
        assert top(book["bids"], True) == pub["bids"][:10] and top(book["asks"], False) == pub["asks"][:10]
    asyncio.run(_session(body))

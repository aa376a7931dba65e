"""Message examples copied from the venues' public documentation (the source of each is noted).
The simulator's messages are compared with these for shape: the same keys, the same JSON
types at every leaf (numbers are one type), the same constant values where marked."""

# -- Binance spot: github.com/binance/binance-spot-api-docs web-socket-streams.md -------------
BINANCE_SUBSCRIBE_RESPONSE = {"result": None, "id": 1}
BINANCE_SPOT_DEPTH_UPDATE = {  # "Diff. Depth Stream"
    "e": "depthUpdate", "E": 1672515782136, "s": "BNBBTC", "U": 157, "u": 160,
    "b": [["0.0024", "10"]], "a": [["0.0026", "100"]],
}
BINANCE_SPOT_TRADE = {  # "Trade Streams" (current form, without the removed buyer/seller order ids)
    "e": "trade", "E": 1672515782136, "s": "BNBBTC", "t": 12345, "p": "0.001", "q": "100",
    "T": 1672515782136, "m": True, "M": True,
}
BINANCE_SPOT_AGG_TRADE = {  # "Aggregate Trade Streams"
    "e": "aggTrade", "E": 1672515782136, "s": "BNBBTC", "a": 12345, "p": "0.001", "q": "100",
    "f": 100, "l": 105, "T": 1672515782136, "m": True, "M": True,
}
BINANCE_SPOT_PARTIAL_DEPTH = {"lastUpdateId": 160, "bids": [["0.0024", "10"]], "asks": [["0.0026", "100"]]}
BINANCE_SPOT_REST_DEPTH = {  # rest-api.md "Order book"
    "lastUpdateId": 1027024, "bids": [["4.00000000", "431.00000000"]], "asks": [["4.00000200", "12.00000000"]],
}

# -- Binance USD-M futures: developers.binance.com/docs/derivatives/usds-margined-futures ------
BINANCE_PERP_DEPTH_UPDATE = {  # websocket-market-streams/Diff-Book-Depth-Streams
    "e": "depthUpdate", "E": 123456789, "T": 123456788, "s": "BTCUSDT", "U": 157, "u": 160, "pu": 149,
    "b": [["0.0024", "10"]], "a": [["0.0026", "100"]],
}
BINANCE_PERP_AGG_TRADE = {  # websocket-market-streams/Aggregate-Trade-Streams
    "e": "aggTrade", "E": 123456789, "s": "BTCUSDT", "a": 5933014, "p": "0.001", "q": "100",
    "f": 100, "l": 105, "T": 123456785, "m": True,
}
BINANCE_PERP_REST_DEPTH = {  # market-data/rest-api/Order-Book
    "lastUpdateId": 1027024, "E": 1589436922972, "T": 1589436922959,
    "bids": [["4.00000000", "431.00000000"]], "asks": [["4.00000200", "12.00000000"]],
}

# -- Bybit v5: bybit-exchange.github.io/docs/v5/ws/connect, websocket/public/{orderbook,trade} --
BYBIT_SUBSCRIBE_RESPONSE = {  # "Understanding the Subscription Response", Linear/Inverse
    "success": True, "ret_msg": "", "conn_id": "3cd84cb1-4d06-4a05-930a-2efe5fc70f0f", "req_id": "", "op": "subscribe",
}
BYBIT_PONG = {  # "How to Send the Heartbeat Packet", Linear/Inverse
    "success": True, "ret_msg": "pong", "conn_id": "465772b1-7630-4fdc-a492-e003e6f0f260", "req_id": "", "op": "ping",
}
BYBIT_ORDERBOOK = {
    "topic": "orderbook.50.BTCUSDT", "type": "snapshot", "ts": 1672304484978,
    "data": {"s": "BTCUSDT", "b": [["16493.50", "0.006"]], "a": [["16611.00", "0.029"]], "u": 18521288,
             "seq": 7961638724},
    "cts": 1672304484976,
}
BYBIT_TRADE = {
    "topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": 1672304486868,
    "data": [{"T": 1672304486865, "s": "BTCUSDT", "S": "Buy", "v": "0.001", "p": "16578.50", "L": "PlusTick",
              "i": "20f43950-d8dd-5b31-9112-a178eb6023af", "BT": False, "seq": 1783284617}],
}

# -- OKX v5: www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel -----
OKX_SUBSCRIBE_RESPONSE = {"id": "1512", "event": "subscribe", "arg": {"channel": "books", "instId": "BTC-USDT"},
                          "connId": "a4d3ae55"}
OKX_BOOKS = {
    "arg": {"channel": "books", "instId": "BTC-USDT"}, "action": "snapshot",
    "data": [{"asks": [["8476.98", "415", "0", "13"]], "bids": [["8476.97", "256", "0", "12"]],
              "ts": "1597026383085", "checksum": -855196043, "prevSeqId": -1, "seqId": 123456}],
}
OKX_BOOKS5 = {
    "arg": {"channel": "books5", "instId": "BCH-USDT-SWAP"},
    "data": [{"asks": [["111.06", "55154", "0", "2"]], "bids": [["111.05", "57745", "0", "2"]],
              "instId": "BCH-USDT-SWAP", "ts": "1670324386802", "seqId": 363996337}],
}
OKX_TRADES = {  # "Trades channel"
    "arg": {"channel": "trades", "instId": "BTC-USDT"},
    "data": [{"instId": "BTC-USDT", "tradeId": "130639474", "px": "42219.9", "sz": "0.12060306", "side": "buy",
              "ts": "1630048897897", "count": "3"}],
}

# -- Coinbase Advanced Trade: docs.cdp.coinbase.com/advanced-trade/docs/ws-channels ----------
COINBASE_L2 = {
    "channel": "l2_data", "client_id": "", "timestamp": "2023-02-09T20:32:50.714964855Z", "sequence_num": 0,
    "events": [{"type": "snapshot", "product_id": "BTC-USD", "updates": [
        {"side": "bid", "event_time": "1970-01-01T00:00:00Z", "price_level": "21921.73", "new_quantity": "0.06317902"}]}],
}
COINBASE_TRADES = {
    "channel": "market_trades", "client_id": "", "timestamp": "2023-02-09T20:19:35.39625135Z", "sequence_num": 0,
    "events": [{"type": "snapshot", "trades": [{"trade_id": "000000000", "product_id": "ETH-USD", "price": "1260.01",
                                                 "size": "0.3", "side": "BUY", "time": "2019-08-14T20:42:27.265Z"}]}],
}
COINBASE_HEARTBEATS = {
    "channel": "heartbeats", "client_id": "", "timestamp": "2023-06-23T20:31:26.122969572Z", "sequence_num": 0,
    "events": [{"current_time": "2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105",
                "heartbeat_counter": "3049"}],
}
COINBASE_SUBSCRIPTIONS = {
    "channel": "subscriptions", "client_id": "", "timestamp": "2023-02-09T20:32:50.714964855Z", "sequence_num": 0,
    "events": [{"subscriptions": {"level2": ["BTC-USD"]}}],
}

# -- Kraken WebSocket v2: docs.kraken.com/api/docs/websocket-v2/{book,trade,instrument,status,ping}
KRAKEN_STATUS = {"channel": "status", "data": [{"api_version": "v2", "connection_id": 12393906104898154338,
                                                "system": "online", "version": "2.0.0"}], "type": "update"}
KRAKEN_BOOK_ACK = {"method": "subscribe", "result": {"channel": "book", "depth": 10, "snapshot": True,
                                                     "symbol": "ALGO/USD"},
                   "success": True, "time_in": "2023-10-06T17:35:55.219022Z", "time_out": "2023-10-06T17:35:55.219067Z"}
KRAKEN_BOOK_SNAPSHOT = {"channel": "book", "type": "snapshot", "data": [{
    "symbol": "MATIC/USD", "bids": [{"price": 0.5666, "qty": 4831.75496356}], "asks": [{"price": 0.5668, "qty": 4410.79769741}],
    "checksum": 2439117997, "timestamp": "2023-10-06T17:35:55.440295Z"}]}
KRAKEN_TRADE = {"channel": "trade", "type": "update", "data": [{
    "symbol": "MATIC/USD", "side": "sell", "price": 0.5147, "qty": 6423.46326, "ord_type": "limit",
    "trade_id": 4665846, "timestamp": "2023-09-25T07:48:36.925533Z"}]}
KRAKEN_PONG = {"method": "pong", "req_id": 101, "time_in": "2023-09-24T14:10:23.799685Z",
               "time_out": "2023-09-24T14:10:23.799703Z"}
KRAKEN_HEARTBEAT = {"channel": "heartbeat"}
# guides/spot-ws-book-v2: the documented checksum worked example (BTC/USD, top 10 each side)
KRAKEN_CHECKSUM_BIDS = [("45283.5", "0.10000000"), ("45283.4", "1.54582015"), ("45282.1", "0.10000000"),
                        ("45281.0", "0.10000000"), ("45280.3", "1.54592586"), ("45279.0", "0.07990000"),
                        ("45277.6", "0.03310103"), ("45277.5", "0.30000000"), ("45277.3", "1.54602737"),
                        ("45276.6", "0.15445238")]
KRAKEN_CHECKSUM_ASKS = [("45285.2", "0.00100000"), ("45286.4", "1.54571953"), ("45286.6", "1.54571109"),
                        ("45289.6", "1.54560911"), ("45290.2", "0.15890660"), ("45291.8", "1.54553491"),
                        ("45294.7", "0.04454749"), ("45296.1", "0.35380000"), ("45297.5", "0.09945542"),
                        ("45299.5", "0.18772827")]
KRAKEN_CHECKSUM = 3310070434

# -- Hyperliquid: hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket(/subscriptions)
HL_SUBSCRIPTION_RESPONSE = {"channel": "subscriptionResponse",
                            "data": {"method": "subscribe", "subscription": {"type": "trades", "coin": "SOL"}}}
HL_L2BOOK = {"channel": "l2Book", "data": {"coin": "BTC", "time": 1700000000000,
                                           "levels": [[{"px": "19900", "sz": "1", "n": 1}], [{"px": "20100", "sz": "1", "n": 1}]]}}
HL_TRADES = {"channel": "trades", "data": [{"coin": "BTC", "side": "B", "px": "72581.0", "sz": "0.00017",
                                            "time": 1787259217020, "hash": "0x" + "0" * 64, "tid": 877707108085800,
                                            "users": ["0x9b54264d7502f80163ea949038aad771eae67e38",
                                                      "0x706bb519b05b7dc01d048af9a5e29d1ef5d6d9e3"]}]}
HL_PONG = {"channel": "pong"}

# -- OKX checksum (order book channel, "Checksum" examples): the documented check strings -----
OKX_CHECKSUM_EXAMPLE_1 = ([("3366.1", "7"), ("3366", "6")], [("3366.8", "9"), ("3368", "8")],
                          "3366.1:7:3366.8:9:3366:6:3368:8")
OKX_CHECKSUM_EXAMPLE_2 = ([("3366.1", "7")], [("3366.8", "9"), ("3368", "8"), ("3372", "8")],
                          "3366.1:7:3366.8:9:3368:8:3372:8")


def shape(obj):
    """The structure of a JSON value: dict keys, list element shape, leaf type."""
    if isinstance(obj, dict):
        return {k: shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [shape(obj[0])] if obj else []
    if isinstance(obj, bool):
        return "bool"
    if isinstance(obj, (int, float)):
        return "number"
    if obj is None:
        return "null"
    return "str"


def same_shape(actual, documented) -> bool:
    """Same keys and leaf types; an empty documented or actual list matches any list."""
    a, d = shape(actual), shape(documented)
    return _match(a, d)


def _match(a, d) -> bool:
    if isinstance(d, dict):
        return isinstance(a, dict) and set(a) == set(d) and all(_match(a[k], d[k]) for k in d)
    if isinstance(d, list):
        return isinstance(a, list) and (not a or not d or _match(a[0], d[0]))
    return a == d

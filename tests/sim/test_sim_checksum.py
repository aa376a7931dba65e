"""The simulator's OKX and Kraken checksums against the venues' documented worked examples."""

import zlib

import sim_doc_examples as doc
from nexus.sim import checksum, fmt


def test_okx_check_strings_match_the_documented_examples():
    for bids, asks, expected in (doc.OKX_CHECKSUM_EXAMPLE_1, doc.OKX_CHECKSUM_EXAMPLE_2):
        assert checksum.okx_string(bids, asks) == expected
        crc = zlib.crc32(expected.encode())
        assert checksum.okx(bids, asks) == (crc - (1 << 32) if crc >= 1 << 31 else crc)


def test_okx_checksum_is_signed_32_bit_and_known_values():
    # CRC32 of the documented check strings, read as signed 32-bit (the docs' "32-bit signed integer")
    assert checksum.okx(*doc.OKX_CHECKSUM_EXAMPLE_1[:2]) == -1881014294
    assert checksum.okx(*doc.OKX_CHECKSUM_EXAMPLE_2[:2]) == 831078360


def test_okx_checksum_uses_only_25_levels_and_interleaves():
    bids = [(str(1000 - i), "1") for i in range(30)]
    asks = [(str(1001 + i), "2") for i in range(30)]
    s = checksum.okx_string(bids, asks)
    assert s.startswith("1000:1:1001:2:999:1:1002:2")
    assert len(s.split(":")) == 25 * 4 and "975:" not in s


def test_kraken_checksum_matches_the_documented_example():
    assert checksum.kraken(doc.KRAKEN_CHECKSUM_BIDS, doc.KRAKEN_CHECKSUM_ASKS) == doc.KRAKEN_CHECKSUM
    # the guide's first step: price "45285.2" -> "452852", qty "0.00100000" -> "100000"
    assert checksum.kraken_string([], [("45285.2", "0.00100000")]) == "452852100000"


def test_kraken_checksum_asks_before_bids_top_10():
    bids = [(f"{100 - i}.0", "1.00000000") for i in range(12)]
    asks = [(f"{101 + i}.0", "2.00000000") for i in range(12)]
    s = checksum.kraken_string(bids, asks)
    assert s.startswith("1010200000000") and s.endswith("91" + "0" + "100000000")
    assert checksum.kraken(bids, asks) == zlib.crc32(s.encode())


def test_decimal_formatting_is_exact():
    assert fmt.fixed(650001, 1) == "65000.1"
    assert fmt.fixed(5, 8) == "0.00000005"
    assert fmt.fixed(-5, 2) == "-0.05"
    assert fmt.trim(6500000, 2) == "65000"
    assert fmt.trim(150, 2) == "1.5"
    assert fmt.trim(0, 3) == "0"
    assert fmt.rescale(6500001, 2, 8) == 6_500_001_000_000
    assert fmt.rfc3339(1_767_225_600_123_456_789, 9) == "2026-01-01T00:00:00.123456789Z"
    assert fmt.rfc3339(1_767_225_600_123_456_789, 6) == "2026-01-01T00:00:00.123456Z"
    assert fmt.dumps({"price": fmt.Raw("45283.5"), "qty": fmt.Raw("0.10000000"), "s": "x"}) == \
        '{"price":45283.5,"qty":0.10000000,"s":"x"}'

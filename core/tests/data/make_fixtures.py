#!/usr/bin/env python3
"""Regenerates the small fixtures in this folder from ../shared/data (see README.md).

Run from the repository root: python3 core/tests/data/make_fixtures.py
"""
import struct
from pathlib import Path

DATA = Path("../shared/data")
OUT = Path("core/tests/data")


def lzf_decompress(src, out_len):
    out = bytearray()
    i = 0
    while i < len(src):
        ctrl = src[i]
        i += 1
        if ctrl < 32:
            out += src[i:i + ctrl + 1]
            i += ctrl + 1
        else:
            n = ctrl >> 5
            if n == 7:
                n += src[i]
                i += 1
            ref = len(out) - ((ctrl & 0x1F) << 8) - src[i] - 1
            i += 1
            for k in range(n + 2):
                out.append(out[ref + k])
    assert len(out) == out_len
    return bytes(out)


def lzf_compress(data):
    """Greedy LZF (liblzf format) with a dict of 3-byte prefixes."""
    out = bytearray()
    last = {}
    i = lit = 0

    def flush(a, b):
        for s in range(a, b, 32):
            chunk = data[s:min(b, s + 32)]
            out.append(len(chunk) - 1)
            out.extend(chunk)

    while i + 2 < len(data):
        key = data[i:i + 3]
        cand = last.get(key)
        last[key] = i
        if cand is not None and i - cand <= 8192:
            n = 3
            while n < 264 and i + n < len(data) and data[cand + n] == data[i + n]:
                n += 1
            flush(lit, i)
            dist, l = i - cand - 1, n - 2
            if l < 7:
                out.append((l << 5) | (dist >> 8))
            else:
                out.append((7 << 5) | (dist >> 8))
                out.append(l - 7)
            out.append(dist & 0xFF)
            i += n
            lit = i
        else:
            i += 1
    flush(lit, len(data))
    return bytes(out)


def ouster_excerpt(n):
    raw = (DATA / "lidar/unlabelled/ouster_os128_patchwork_000000.pcd").read_bytes()
    end = raw.index(b"DATA binary_compressed\n") + len(b"DATA binary_compressed\n")
    header = raw[:end].decode()
    sizes = [int(s) for s in next(l for l in header.splitlines() if l.startswith("SIZE")).split()[1:]]
    points = 240000
    csize, usize = struct.unpack("<II", raw[end:end + 8])
    soa = lzf_decompress(raw[end + 8:end + 8 + csize], usize)
    # Keep every 469th point (all 128 rings, all azimuths) of each field block.
    picks = range(0, 469 * n, 469)
    blocks, base = [], 0
    for s in sizes:
        blocks.append(b"".join(soa[base + i * s:base + (i + 1) * s] for i in picks))
        base += points * s
    cut = b"".join(blocks)
    head = header.replace("WIDTH 1875", f"WIDTH {n}").replace("HEIGHT 128", "HEIGHT 1")
    head = head.replace("POINTS 240000", f"POINTS {n}")
    packed = lzf_compress(cut)
    (OUT / "ouster_os128_head.pcd").write_bytes(
        head.encode() + struct.pack("<II", len(packed), len(cut)) + packed)


def nav2_from_movingai():
    lines = (OUT / "den312d.map").read_text().splitlines()
    rows = lines[4:]
    h, w = len(rows), len(rows[0])
    # Trees/walls occupied (0), ground free (254); a 3-pixel unknown (205) band on the left
    # like unexplored space in a SLAM map.
    pix = []
    for r in rows:
        for x, c in enumerate(r):
            pix.append(205 if x < 3 else (254 if c in ".GS" else 0))
    (OUT / "den312d_nav2.pgm").write_bytes(
        f"P5\n# from den312d.map\n{w} {h}\n255\n".encode() + bytes(pix))
    text = "\n".join(" ".join(str(v) for v in pix[y * w:(y + 1) * w]) for y in range(h))
    (OUT / "den312d_nav2_ascii.pgm").write_text(f"P2\n# from den312d.map\n{w} {h}\n255\n{text}\n")
    for name, img in [("den312d_nav2.yaml", "den312d_nav2.pgm"),
                      ("den312d_nav2_ascii.yaml", "den312d_nav2_ascii.pgm")]:
        (OUT / name).write_text(
            f"image: {img}\nmode: trinary\nresolution: 0.05\norigin: [-1.6, -2.0, 0.0]\n"
            "negate: 0\noccupied_thresh: 0.65\nfree_thresh: 0.196\n")


if __name__ == "__main__":
    lines = (DATA / "slam/intel.clf").read_text().splitlines(keepends=True)
    (OUT / "intel_head.clf").write_text("".join(lines[:50]))
    (OUT / "empty-32-32.map").write_bytes((DATA / "mapf/maps/empty-32-32.map").read_bytes())
    scen = (DATA / "mapf/scen/empty-32-32-even-1.scen").read_text().splitlines(keepends=True)
    (OUT / "empty-32-32-even-1_head.scen").write_text("".join(scen[:21]))
    kitti = (DATA / "lidar/unlabelled/kitti_hdl64_patchworkpp_000000.bin").read_bytes()
    (OUT / "kitti_hdl64_head.bin").write_bytes(kitti[:256 * 16])
    ouster_excerpt(512)
    nav2_from_movingai()

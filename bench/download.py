"""Benchmark `download_images` against the loopback FakeWGA: images/s and MB/s of a cold run, and the time of a second (no-op) run.

usage: .venv/bin/python bench/download.py [--n 300] [--size 640] [--workers 8] [--max-side 512]
The server's images are generated (and cached in memory) before timing starts, so the figures measure the client:
HTTP + decode (core.load_image) + resize + JPEG encode + atomic write. No rate limit (rate=None).
"""
import argparse, tempfile, time
from urllib.parse import urlsplit
from image_to_vec.fakewga import FakeWGA
from image_to_vec.scrape import scrape_wga
from image_to_vec.download import download_images

ap = argparse.ArgumentParser()
ap.add_argument('--n', type=int, default=300, help='images (rounded to a multiple of 3 styles)')
ap.add_argument('--size', type=int, default=640, help='side of the served JPEGs in pixels')
ap.add_argument('--workers', type=int, default=8)
ap.add_argument('--max-side', type=int, default=512)
a = ap.parse_args()

with FakeWGA(n_per_style=max(1, a.n // 3), image_size=a.size, extras=False) as srv, tempfile.TemporaryDirectory() as d:
    t = time.perf_counter()
    for r in srv.rows: srv._image(urlsplit(r[6]).path)                  # pre-generate the served images
    print(f"server: {len(srv.rows)} images of {a.size}x{a.size} generated in {time.perf_counter() - t:.1f} s")
    cat = scrape_wga(d, base_url=srv.base_url, rate=None, progress=False)
    t = time.perf_counter()
    r1 = download_images(cat, d, max_side=a.max_side, workers=a.workers, progress=False)
    t1 = time.perf_counter() - t
    assert r1.failed == 0 and r1.ok == len(cat), r1.summary()
    t = time.perf_counter()
    r2 = download_images(cat, d, max_side=a.max_side, workers=a.workers, progress=False)
    t2 = time.perf_counter() - t
    assert r2.ok == 0 and r2.skipped == len(cat)
    t = time.perf_counter()
    r3 = download_images(cat, d, max_side=a.max_side, workers=a.workers, progress=False, verify='full')
    t3 = time.perf_counter() - t
    print(f"cold run : {r1.ok} images, {r1.bytes / 1e6:.1f} MB in {t1:.2f} s = {r1.ok / t1:.1f} images/s, {r1.bytes / 1e6 / t1:.1f} MB/s "
          f"(workers={a.workers}, max_side={a.max_side})")
    print(f"second run (no-op, fast verify): {t2 * 1000:.0f} ms for {r2.skipped} files ({r2.skipped / t2:.0f} files/s); requests made: 0")
    print(f"second run (no-op, full decode verify): {t3 * 1000:.0f} ms")

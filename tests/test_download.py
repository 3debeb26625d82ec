"Tests of `image_to_vec.download` against the loopback `FakeWGA`: faults, resumability, atomic writes, and the CLI."
import os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest
from fastcore.script import CliError
from image_to_vec.core import load_image
from image_to_vec.fakewga import FakeWGA
from image_to_vec.scrape import scrape_wga
from image_to_vec.download import download_images, i2v_download, is_complete_jpeg
from image_to_vec import cli

_exe = Path(sys.executable).parent/'i2v'
I2V = [str(_exe)] if _exe.exists() else [sys.executable, '-c', 'import sys; from image_to_vec.cli import main; sys.exit(main())']


def _scrape(srv, d, **kw): return scrape_wga(d, base_url=srv.base_url, rate=None, progress=False, **kw)


def _paths(n_per_style=5, **kw):
    with FakeWGA(n_per_style=n_per_style, **kw) as s: return s.image_paths()


def test_every_fault_is_accounted_for_and_rerun_finishes(tmp_path):
    p = _paths()
    faults = {p[0]: '404', p[1]: 'html', p[2]: 'truncated', p[3]: ['500', '503'], p[4]: ['429'], p[5]: ['slow'],
              p[6]: 'slow', p[7]: 'reset', p[8]: ['truncated']}
    with FakeWGA(n_per_style=5, faults=faults, slow_s=1.2) as srv:
        cat = _scrape(srv, tmp_path)
        rep = download_images(cat, tmp_path, max_side=48, workers=4, timeout=0.5, retries=2, backoff=0.01, progress=False)
        assert rep.total == len(cat) and rep.skipped == 0
        reasons = dict(zip(rep.failures['image_url'].str.replace(srv.base_url, ''), rep.failures['reason']))
        assert reasons[p[0]] == 'HTTP 404'
        assert reasons[p[1]] == 'got an HTML page instead of an image'
        assert reasons[p[2]] == 'truncated file' and reasons[p[8]] == 'truncated file'
        assert reasons[p[6]] == 'timeout'
        assert reasons[p[7]].startswith('connection error')
        assert set(reasons) == {p[0], p[1], p[2], p[6], p[7], p[8]}       # 500s, 429 and one slow answer recovered
        assert srv.hits[p[3]] == 3 and srv.hits[p[4]] == 2 and srv.hits[p[5]] == 2
        stored = pd.read_parquet(tmp_path/'failures.parquet')
        assert list(stored.columns) == ['id', 'image_url', 'reason'] and len(stored) == 6
        for path in cat['path']:                                           # no file for a failure, a good one otherwise
            f = tmp_path/path
            assert not f.exists() or max(load_image(f).size) <= 48
        assert sum((tmp_path/x).exists() for x in cat['path']) == rep.ok == len(cat) - 6
        # a rerun: only the failures are asked for again; the one-off truncation now succeeds
        n = srv.n_hits('/art/')
        rep2 = download_images(cat, tmp_path, max_side=48, workers=4, timeout=0.5, retries=0, progress=False)
        assert (rep2.ok, rep2.skipped, rep2.failed) == (1, len(cat) - 6, 5)
        assert srv.n_hits('/art/') - n == 6
        assert not list((tmp_path/'images').glob('.*.part'))


def test_second_run_downloads_nothing(tmp_path):
    with FakeWGA(n_per_style=6) as srv:
        cat = _scrape(srv, tmp_path)
        r1 = download_images(cat, tmp_path, max_side=32, workers=3, progress=False)
        assert (r1.ok, r1.failed) == (len(cat), 0)
        mtimes = {p: (tmp_path/p).stat().st_mtime_ns for p in cat['path']}
        n = srv.n_hits()
        r2 = download_images(tmp_path/'catalog.parquet', tmp_path, max_side=32, workers=3, progress=False)
        assert (r2.ok, r2.skipped, r2.failed) == (0, len(cat), 0)
        assert srv.n_hits() == n                                            # not one request
        assert mtimes == {p: (tmp_path/p).stat().st_mtime_ns for p in cat['path']}
        r3 = download_images(cat, tmp_path, max_side=32, verify='full', progress=False)
        assert r3.skipped == len(cat)


def test_interrupted_state_is_repaired(tmp_path):
    "A crash leaves temp files and, say, a file truncated by a full disk: the next run cleans and completes."
    with FakeWGA(n_per_style=4) as srv:
        cat = _scrape(srv, tmp_path)
        download_images(cat.iloc[:5], tmp_path, max_side=32, progress=False)
        bad = tmp_path/cat['path'].iloc[0]; bad.write_bytes(bad.read_bytes()[:100])   # a half-written final file
        (tmp_path/'images'/f'.{cat.id.iloc[7]}.jpg.999.1.part').write_bytes(b'\xff\xd8\xff junk')
        rep = download_images(cat, tmp_path, max_side=32, progress=False)
        assert (rep.ok, rep.skipped, rep.failed) == (len(cat) - 4, 4, 0)
        assert all(is_complete_jpeg(tmp_path/p) for p in cat['path'])
        assert not list((tmp_path/'images').glob('.*.part'))


def test_killed_midway_then_rerun_completes(tmp_path):
    "Kill a real `i2v download` process mid-run (SIGKILL), check that no final file is corrupt, and rerun."
    with FakeWGA(n_per_style=20) as srv:
        _scrape(srv, tmp_path)
        cat = pd.read_parquet(tmp_path/'catalog.parquet')
        proc = subprocess.Popen(I2V + ['download', '--out', str(tmp_path), '--rate', '15', '--workers', '4', '--max-side', '32'],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 20:
            if len(list((tmp_path/'images').glob('*.jpg'))) >= 10: break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL); proc.wait()
        done = list((tmp_path/'images').glob('*.jpg'))
        assert 10 <= len(done) < len(cat), 'the run should have been killed midway'
        assert all(is_complete_jpeg(f) and load_image(f) for f in done)       # never a half file under a final name
        rep = download_images(tmp_path/'catalog.parquet', tmp_path, max_side=32, progress=False)
        assert rep.skipped == len(done) and rep.ok == len(cat) - len(done) and rep.failed == 0
        assert not list((tmp_path/'images').glob('.*.part'))


def test_cli_scrape_then_download(tmp_path):
    "The acceptance test: `i2v scrape --base-url http://127.0.0.1:PORT` then `i2v download`, from the CLI."
    p = _paths(n_per_style=4)
    with FakeWGA(n_per_style=4, faults={p[0]: '404'}) as srv:
        out = str(tmp_path/'wga')
        r = subprocess.run(I2V + ['scrape', '--out', out, '--base-url', srv.base_url, '--rate', '0', '--limit', '10'],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert 'scrape: 10 rows' in r.stdout
        r = subprocess.run(I2V + ['download', '--out', out, '--rate', '0', '--max-side', '40'], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        cat = pd.read_parquet(Path(out)/'catalog.parquet')
        fails = pd.read_parquet(Path(out)/'failures.parquet')
        ok = [x for x in cat['path'] if (Path(out)/x).exists()]
        assert len(ok) + len(fails) == len(cat) == 10
        assert f"{len(ok)} ok, 0 skipped" in r.stdout
        assert cli.main(['download', '--out', out, '--rate', '0']) == 0     # in-process too; all skipped now


def test_cli_download_errors(tmp_path):
    with pytest.raises(CliError, match='not found'): i2v_download(str(tmp_path))
    assert cli.main(['download', '--out', str(tmp_path)]) == 2
    with pytest.raises(ValueError, match='lacks the column'): download_images(pd.DataFrame(dict(id=['a'])), tmp_path)

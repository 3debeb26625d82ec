"""End to end through a loopback WGA: `i2v pipeline` from scraping to evaluation, then `i2v search` and `i2v eval`,
a rerun that does nothing, and a pipeline killed during download that a rerun completes."""
import hashlib, json, os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest
from image_to_vec.fakewga import FakeWGA
from image_to_vec.download import is_complete_jpeg
from image_to_vec.core import load_image

pytestmark = pytest.mark.slow
I2V = str(Path(sys.executable).parent/'i2v')

def i2v(*args, timeout=600):
    r = subprocess.run([I2V, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"i2v {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout

def pipeline_args(srv, out):
    return ['pipeline', '--out', out, '--base-url', srv.base_url, '--epochs', 1, '--cached-features',
            '--rate', 0, '--download-rate', 0, '-k', 5]

def sha(p): return hashlib.sha256(Path(p).read_bytes()).hexdigest()

def test_pipeline_end_to_end(tmp_path):
    out = tmp_path/'run'
    with FakeWGA(n_per_style=20) as srv:    # ~60 paintings in 3 styles, learnable images
        log = i2v(*pipeline_args(srv, out))
        for stage in ('scrape', 'download', 'train', 'embed', 'index', 'evaluate'): assert f"[{stage}] done" in log
        cat = pd.read_parquet(out/'collection.parquet')
        assert len(cat) >= 55 and cat['style'].nunique() == 3

        # search by one of the images: it comes back first, with score ~ 1
        item = cat.iloc[7]
        hits = json.loads(i2v('search', out/item['path'], '--index', out/'index', '-k', 5, '--json'))
        assert hits[0]['id'] == item['id'] and hits[0]['score'] > 0.99

        # eval beats chance (1/3) on the style
        i2v('eval', '--index', out/'index', '--json', tmp_path/'eval.json')
        res = json.loads((tmp_path/'eval.json').read_text())
        assert res['targets']['style']['acc@1'] > 0.5

        # a second run downloads nothing and does not retrain
        n_img, n_all = srv.n_hits('/art/'), srv.n_hits()
        w = out/'model'/'weights.safetensors'; mtime, digest = w.stat().st_mtime_ns, sha(w)
        log2 = i2v(*pipeline_args(srv, out))
        assert srv.n_hits('/art/') == n_img and srv.n_hits() == n_all      # not a single request
        assert w.stat().st_mtime_ns == mtime and sha(w) == digest            # no retraining
        for stage in ('scrape', 'download', 'train', 'embed', 'index', 'evaluate'): assert f"[{stage}] up to date, skipped" in log2

def test_pipeline_killed_during_download(tmp_path):
    out = tmp_path/'run'
    with FakeWGA(n_per_style=20, slow_s=0.4) as srv:
        srv.faults.update({p: 'slow' for p in srv.image_paths()})   # every image takes 0.4 s: time to kill mid-download
        args = [I2V, *map(str, pipeline_args(srv, out))] + ['--workers', '2']
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            t0 = time.time()
            while time.time() - t0 < 120:
                n = len(list((out/'images').rglob('*.jpg'))) if (out/'images').exists() else 0
                if n >= 5: break
                assert p.poll() is None, "the pipeline ended before it could be killed"
                time.sleep(0.1)
            os.killpg(p.pid, signal.SIGKILL)
        finally:
            p.wait(30)
        cat1 = pd.read_parquet(out/'catalog.parquet')
        assert not (out/'stages'/'download.json').exists()        # the download stage never finished
        n_before = len(list((out/'images').rglob('*.jpg')))
        assert 5 <= n_before < len(cat1)
        srv.faults.clear()
        log = i2v(*pipeline_args(srv, out))
        assert '[scrape] up to date, skipped' in log              # the rerun keeps the scraped catalog
        cat2 = pd.read_parquet(out/'catalog.parquet')
        pd.testing.assert_frame_equal(cat1, cat2)
        coll = pd.read_parquet(out/'collection.parquet')
        assert len(coll) == len(cat2)
        for rel in coll['path']:                                   # every file is whole and decodes
            f = out/rel
            assert is_complete_jpeg(f), rel
            load_image(f)
        assert not [f for f in (out/'images').rglob('*') if f.is_file() and f.suffix != '.jpg']   # no temp files left

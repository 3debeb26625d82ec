"Always-run tests of image_to_vec.search on tiny data (no model, no pynndescent JIT unless marked slow)."
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from image_to_vec.search import (ImageIndex, IndexLoadError, FingerprintMismatch, exact_knn, l2_normalize, vote,
                                 graph_knn, graph_search_ready, warm_up)
from image_to_vec.cli import main as i2v

def clustered(n=300, d=16, c=6, noise=0.35, seed=0):
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, c, n)
    return l2_normalize(rng.normal(size=(c, d))[lab] + noise*rng.normal(size=(n, d))), lab

def catalog(lab):
    n = len(lab)
    return pd.DataFrame({'id': [f'w{i:03d}' for i in range(n)], 'style': [f'S{l}' for l in lab],
                         'year': pd.array(1500 + 50*lab + np.arange(n) % 10, dtype='Int64'),
                         'author': [f'A{l}-{i%2}' for i, l in enumerate(lab)], 'title': [f't{i}' for i in range(n)]})

@pytest.fixture(scope='module')
def data():
    X, lab = clustered()
    return X, lab, catalog(lab)

@pytest.mark.parametrize('exact_below', [20_000, 0])   # exact search, and graph search over an exact k-NN graph
def test_search_equals_exact(data, exact_below):
    X, lab, cat = data
    idx = ImageIndex.build(X, cat, n_neighbors=10, exact_below=exact_below)
    assert idx.exact == (exact_below > 0)
    rng = np.random.default_rng(5); Q = l2_normalize(X[:40] + 0.2*rng.normal(size=(40, X.shape[1])))
    E, ES = exact_knn(X, Q, 10)
    res = idx.search(list(Q), k=10)
    got = np.array([r['id'].str[1:].astype(int).to_numpy() for r in res])
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, E)]) >= 0.99
    np.testing.assert_allclose(res[0]['score'].to_numpy(), ES[0], atol=1e-5)
    # query by id: the item's row of the graph, itself excluded, same as exact leave-one-out
    r = idx.search('w007', k=5)
    Ei, _ = exact_knn(X, X[7:8], 5, exclude=np.array([7]))
    assert r['id'].tolist() == [f'w{i:03d}' for i in Ei[0]]
    assert list(r.columns[:3]) == ['rank', 'id', 'score'] and 'style' in r

def test_filters(data):
    X, lab, cat = data
    for eb in (20_000, 0):
        idx = ImageIndex.build(X, cat, n_neighbors=10, exact_below=eb)
        r = idx.search(X[0], k=8, where='style == "S2" and year >= 1600')
        assert len(r) == 8 and (r['style'] == 'S2').all() and (r['year'] >= 1600).all()
        sub = np.flatnonzero((cat['style'] == 'S2').to_numpy())
        Ei, _ = exact_knn(X[sub], X[:1], 8)
        assert r['id'].tolist() == cat['id'].to_numpy()[sub[Ei[0]]].tolist()
        assert len(idx.search(X[0], k=5, where='year > 3000')) == 0
        # a large filter on the graph path: over-fetch, still exact
        big = idx.search(X[0], k=10, where='style != "S0"')
        assert (big['style'] != 'S0').all() and len(big) == 10
    with pytest.raises(ValueError, match='bad filter'): idx.search(X[0], where='nope >')

def test_add_matches_rebuild(data):
    X, lab, cat = data
    a = ImageIndex.build(X[:250], cat[:250], n_neighbors=8)
    a.add(X[250:], cat[250:])
    b = ImageIndex.build(X, cat, n_neighbors=8)
    np.testing.assert_array_equal(a.knn_indices, b.knn_indices)
    g = ImageIndex.build(X[:250], cat[:250], n_neighbors=8, exact_below=0)
    g.add(X[250:], cat[250:])
    assert len(g) == 300 and g.params['n_added'] == 50
    E, _ = exact_knn(X, X[260:270], 5)
    got = [g.search(X[i], k=5)['id'].str[1:].astype(int).tolist() for i in range(260, 270)]
    assert np.mean([len(set(x) & set(y)) / 5 for x, y in zip(got, E)]) >= 0.9
    with pytest.raises(ValueError, match='already in the index'): g.add(X[:1], cat[:1])
    with pytest.raises(ValueError, match='dimensions'): g.add(np.ones((1, 3)), pd.DataFrame({'id': ['new']}))

def test_save_load_round_trip(tmp_path, data):
    X, lab, cat = data
    for eb in (20_000, 0):
        idx = ImageIndex.build(X, cat, n_neighbors=10, exact_below=eb, fingerprint='fp-1', images_root=tmp_path)
        f = idx.save(tmp_path/'ix')
        idx.save(tmp_path/'ix')   # overwrite in place, atomically
        assert sorted(p.name for p in tmp_path.iterdir()) == ['ix']
        man = json.loads((f/'manifest.json').read_text())
        assert man['count'] == 300 and man['dim'] == 16 and man['fingerprint'] == 'fp-1' and 'numpy' in man['libraries']
        assert all('sha256' in m for m in man['files'].values())
        back = ImageIndex.load(f)
        np.testing.assert_array_equal(back.embeddings, idx.embeddings)
        pd.testing.assert_frame_equal(back.catalog, idx.catalog)
        assert back.search(X[3], k=7)['id'].tolist() == idx.search(X[3], k=7)['id'].tolist()
        assert back.fingerprint == 'fp-1' and back.exact == idx.exact
        assert back.image_path('w001') is None  # no 'path' column

def test_corrupt_and_mismatched_folders(tmp_path, data):
    X, lab, cat = data
    idx = ImageIndex.build(X, cat, n_neighbors=5, fingerprint='fp-1')
    def fresh():
        d = tmp_path/'ix'
        if d.exists(): shutil.rmtree(d)
        return idx.save(d)
    f = fresh(); p = f/'embeddings.npy'; p.write_bytes(p.read_bytes()[:-64])
    with pytest.raises(IndexLoadError, match='embeddings.npy .*truncated'): ImageIndex.load(f)
    f = fresh(); b = bytearray((f/'knn_scores.npy').read_bytes()); b[-1] ^= 0xFF; (f/'knn_scores.npy').write_bytes(bytes(b))
    with pytest.raises(IndexLoadError, match='checksum'): ImageIndex.load(f)
    f = fresh(); (f/'catalog.parquet').unlink()
    with pytest.raises(IndexLoadError, match='missing file catalog.parquet'): ImageIndex.load(f)
    f = fresh(); (f/'manifest.json').unlink()
    with pytest.raises(IndexLoadError, match='missing file manifest.json'): ImageIndex.load(f)
    f = fresh(); (f/'manifest.json').write_text('{not json')
    with pytest.raises(IndexLoadError, match='not valid JSON'): ImageIndex.load(f)
    f = fresh()
    class Other: fingerprint = 'fp-2'
    with pytest.raises(FingerprintMismatch, match='fp-1'): ImageIndex.load(f, embedder=Other())
    with pytest.raises(IndexLoadError, match='no such folder'): ImageIndex.load(tmp_path/'absent')

def test_vote_known_case():
    v = vote(['Baroque', 'Baroque', 'Cubism', 'Rococo', None], [0.9, 0.6, 0.8, 0.1, 1.0])
    assert v['label'] == 'Baroque'
    assert v['confidence'] == pytest.approx(1.5 / 2.4, abs=1e-6)
    assert [l for l, _ in v['top3']] == ['Baroque', 'Cubism', 'Rococo']
    X = l2_normalize(np.array([[1, 0], [0.99, 0.1], [0.98, 0.15], [0.97, -0.2], [0, 1], [0.1, 0.99]]))
    cat = pd.DataFrame({'id': list('abcdef'), 'style': ['B', 'B', 'B', 'C', 'C', 'C'],
                        'year': pd.array([1600, 1610, 1620, 1900, 1910, 1920], dtype='Int64')})
    p = ImageIndex.build(X, cat, n_neighbors=3).predict('a', k=3)
    assert p['style']['label'] == 'B' and p['style']['confidence'] > 0.5
    assert p['year']['lo'] <= p['year']['median'] <= p['year']['hi'] and 1610 <= p['year']['median'] <= 1900

def test_duplicates(data):
    X, lab, cat = data
    Y = X.copy(); Y[10] = Y[3]; Y[20] = Y[3] * 2; Y[31] = l2_normalize(Y[30] + 1e-4)
    idx = ImageIndex.build(Y, cat, n_neighbors=5)
    assert idx.duplicates(threshold=0.9999) == [['w003', 'w010', 'w020'], ['w030', 'w031']]
    assert idx.find_duplicate(Y[3] * 5, threshold=0.9999) in {'w003', 'w010', 'w020'}
    assert idx.find_duplicate(Y[30], threshold=0.9999) in {'w030', 'w031'}
    assert idx.find_duplicate(-Y[3]) is None

def test_bad_inputs(data):
    X, lab, cat = data
    with pytest.raises(ValueError, match='300 embeddings but 299'): ImageIndex.build(X, cat[:-1])
    with pytest.raises(ValueError, match='not unique'): ImageIndex.build(X[:2], pd.DataFrame({'id': ['a', 'a']}))
    idx = ImageIndex.build(X, cat)
    with pytest.raises(ValueError, match='no embedder'): idx.search('/no/such/image.jpg')
    with pytest.raises(ValueError, match='dimensions'): idx.search(np.ones(3))

def test_cli_search_output(tmp_path, data, capsys):
    X, lab, cat = data
    np.save(tmp_path/'e.npy', X); cat.to_parquet(tmp_path/'c.parquet')
    assert i2v(['index', '--catalog', str(tmp_path/'c.parquet'), '--embeddings', str(tmp_path/'e.npy'), '--out', str(tmp_path/'ix')]) == 0
    capsys.readouterr()
    assert i2v(['search', 'w005', '--index', str(tmp_path/'ix'), '--k', '4']) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ['rank', 'score', 'author', 'title', 'year', 'style'] and len(lines) == 5
    assert lines[1].split()[0] == '1'
    assert i2v(['search', 'w005', '--index', str(tmp_path/'ix'), '--k', '3', '--json', '--where', 'year < 1600']) == 0
    recs = json.loads(capsys.readouterr().out)
    assert len(recs) == 3 and all(r['year'] < 1600 for r in recs) and {'rank', 'id', 'score'} <= set(recs[0])
    assert i2v(['search', 'w005', '--index', str(tmp_path/'missing')]) == 2
    assert 'no such folder' in capsys.readouterr().err

def test_cold_start_cli_imports_no_torch(tmp_path, data):
    "`i2v search` by id in a fresh process: works and never imports torch."
    X, lab, cat = data
    ImageIndex.build(X, cat).save(tmp_path/'ix')
    code = ("import sys; from image_to_vec.cli import main; "
            f"rc = main(['search', 'w001', '--index', {str(tmp_path/'ix')!r}]); "
            "assert rc == 0; assert 'torch' not in sys.modules and 'fastai' not in sys.modules, 'torch imported'")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def test_cold_process_never_waits_for_numba(tmp_path, data):
    "A fresh process with an EMPTY numba cache answers a graph index's vector query exactly, without importing numba."
    X, lab, cat = data
    ImageIndex.build(X, cat, n_neighbors=10, exact_below=0).save(tmp_path/'ix')
    np.save(tmp_path/'q.npy', X[42] + 0.1)
    code = ("import sys, json; from image_to_vec.cli import main; "
            f"rc = main(['search', {str(tmp_path/'q.npy')!r}, '--index', {str(tmp_path/'ix')!r}, '--k', '5', '--json']); "
            "assert rc == 0; assert 'numba' not in sys.modules, 'numba imported'")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                       env={**os.environ, 'NUMBA_CACHE_DIR': str(tmp_path/'numba-cache')})
    assert r.returncode == 0, r.stderr
    E, _ = exact_knn(X, l2_normalize(X[42:43] + 0.1), 5)
    assert [d['id'] for d in json.loads(r.stdout)] == [f'w{i:03d}' for i in E[0]]

def test_graph_search_warm_and_threaded_batches(data):
    "After `warm_up` the graph search is used; a batch split over threads gives what one thread gives."
    X, lab, cat = data
    idx = ImageIndex.build(X, cat, n_neighbors=10, exact_below=0)
    warm_up(); assert graph_search_ready()
    rng = np.random.default_rng(3); Q = l2_normalize(np.repeat(X, 2, 0)[:600] + 0.2*rng.normal(size=(600, X.shape[1])))
    ip, ix = idx.graph
    one = graph_knn(idx.embeddings, ip, ix, idx.pivots, Q, k=10, ef=32, n_threads=1)
    two = graph_knn(idx.embeddings, ip, ix, idx.pivots, Q, k=10, ef=32, n_threads=2)
    np.testing.assert_array_equal(one[0], two[0]); np.testing.assert_allclose(one[1], two[1])
    E, _ = exact_knn(X, Q, 10)
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(two[0], E)]) >= 0.98

def test_graph_recall_many_small_clusters():
    "Many small clusters (k-NN graph split into pieces, or joined by few edges): entry points still reach the right one."
    # (random + one-per-component entry points gave recall 0.94 here, missing 16 of the 150 clusters)
    X, lab = clustered(n=4200, d=64, c=150, noise=0.6, seed=2)
    cat = pd.DataFrame({'id': [f'x{i}' for i in range(len(X))]})
    idx = ImageIndex.build(X[:4000], cat[:4000], n_neighbors=20, exact_below=0, knn_method='exact', ef=16)
    assert len(np.unique(lab[idx.pivots])) == len(np.unique(lab[:4000]))   # every cluster has an entry point
    I, _ = idx.knn(X[4000:], 10)
    E, _ = exact_knn(idx.embeddings, X[4000:], 10)
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, E)]) >= 0.98

def test_graph_search_high_dim_projected_entry_points(tmp_path):
    "Over 128 dimensions entry points are picked in a 64-d projection; recall holds and it survives save/load."
    X, lab = clustered(n=2100, d=384, c=40, noise=0.6, seed=4)
    cat = pd.DataFrame({'id': [f'x{i}' for i in range(len(X))]})
    idx = ImageIndex.build(X[:2000], cat[:2000], n_neighbors=15, exact_below=0, knn_method='exact', ef=16)
    assert idx.seed_proj.shape == (384, 64)
    E, _ = exact_knn(idx.embeddings, X[2000:], 10)
    back = ImageIndex.load(idx.save(tmp_path/'ix'))
    np.testing.assert_array_equal(back.seed_proj, idx.seed_proj)
    for ix_ in (idx, back):
        I, _ = ix_.knn(X[2000:], 10)
        assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, E)]) >= 0.98

def test_should_rebuild(data):
    X, lab, cat = data
    g = ImageIndex.build(X[:200], cat[:200], n_neighbors=8, exact_below=0)
    g.add(X[200:240], cat[200:240]); assert not g.should_rebuild     # +20%
    g.add(X[240:], cat[240:]); assert g.should_rebuild               # +50%
    assert not ImageIndex.build(X, cat).should_rebuild               # exact indexes never need it

@pytest.mark.slow
def test_pynndescent_graph(data):
    "The pynndescent-built graph (large-collection path) on a small set: searches match exact (slow: numba JIT)."
    X, lab, cat = data
    idx = ImageIndex.build(X, cat, n_neighbors=10, exact_below=0, knn_method='pynndescent')
    E, _ = exact_knn(X, X[:50], 10, exclude=np.arange(50))
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(idx.knn_indices[:50, :10], E)]) >= 0.95

def test_image_queries_end_to_end(tmp_path):
    "`i2v index` with the bare pretrained backbone on a toy collection, then image-file queries (API and CLI)."
    pytest.importorskip('image_to_vec.embed')
    from image_to_vec.core import make_toy_collection
    cat = make_toy_collection(tmp_path/'toy', n_per_style=4)
    assert i2v(['index', '--catalog', str(tmp_path/'toy'/'catalog.parquet'), '--out', str(tmp_path/'ix')]) == 0
    idx = ImageIndex.load(tmp_path/'ix')
    assert len(idx) == 12 and (tmp_path/'ix'/'model').is_dir()
    q = tmp_path/'toy'/cat['path'][5]
    r = idx.search(str(q), k=3)                # embedded with INDEX_DIR/model (loaded lazily)
    assert r['id'][0] == cat['id'][5] and r['score'][0] > 0.99
    assert idx.find_duplicate(str(q)) == cat['id'][5]
    assert idx.image_path(cat['id'][5]) == q.resolve()
    assert i2v(['search', str(q), '--index', str(tmp_path/'ix'), '--k', '2', '--json']) == 0

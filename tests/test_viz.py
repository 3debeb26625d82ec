"Tests of `image_to_vec.viz`: the cached UMAP projection, the plotly map, thumbnails and `i2v map`."
import re, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from image_to_vec.core import make_toy_collection, load_image
from image_to_vec.search import ImageIndex
from image_to_vec import viz

from image_to_vec.core import colour_histogram as colour_features   # a network-free stand-in embedding

@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    d = tmp_path_factory.mktemp('viz')
    cat = make_toy_collection(d/'toy', n_per_style=12)
    cat.loc[0, 'title'] = '<img src=x onerror=alert(1)> & "Night"'
    cat.loc[1, 'year'] = pd.NA
    emb = colour_features([d/'toy'/p for p in cat['path']])
    ImageIndex.build(emb, cat, images_root=d/'toy').save(d/'index')
    return d, cat, emb

def test_umap_cached_in_index_folder_and_recomputed_on_change(toy, monkeypatch, tmp_path):
    d, cat, emb = toy
    idx = ImageIndex.load(d/'index')
    xy = viz.umap2d(idx)
    assert xy.shape == (len(cat), 2) and np.isfinite(xy).all()
    assert (d/'index'/viz.UMAP_FILE).exists() and (d/'index'/viz.UMAP_META).exists()
    calls = []
    real = viz._project
    monkeypatch.setattr(viz, '_project', lambda *a, **kw: calls.append(kw.get('knn')) or real(*a, **kw))
    np.testing.assert_array_equal(viz.umap2d(ImageIndex.load(d/'index')), xy)   # read back, not recomputed
    assert calls == []
    viz.umap2d(idx, n_neighbors=10)                    # other parameters: recomputed
    assert len(calls) == 1
    # the index changes (one more painting): recomputed, and the new projection replaces the old one
    e2 = np.r_[emb, emb[:1] * 0.5 + emb[1:2] * 0.5]; c2 = pd.concat([cat, cat.iloc[:1].assign(id='extra')], ignore_index=True)
    ImageIndex.build(e2, c2, images_root=d/'toy').save(tmp_path/'index2')
    (tmp_path/'index2'/viz.UMAP_FILE).write_bytes((d/'index'/viz.UMAP_FILE).read_bytes())
    (tmp_path/'index2'/viz.UMAP_META).write_bytes((d/'index'/viz.UMAP_META).read_bytes())
    xy2 = viz.umap2d(ImageIndex.load(tmp_path/'index2'))
    assert xy2.shape == (len(cat) + 1, 2) and len(calls) == 2
    assert np.load(tmp_path/'index2'/viz.UMAP_FILE).shape == (len(cat) + 1, 2)

def test_umap_reuses_the_index_knn_graph(toy, monkeypatch):
    d, cat, emb = toy
    idx = ImageIndex.load(d/'index')
    seen = {}
    monkeypatch.setattr(viz, '_project', lambda emb, nn, md, seed, knn=None: seen.setdefault('knn', knn) is None or np.zeros((len(emb), 2), np.float32))
    viz.umap2d(idx, n_neighbors=7, cache=False)
    ki, kd = seen['knn']
    assert ki.shape == (len(cat), 7)
    np.testing.assert_array_equal(ki[:, 0], np.arange(len(cat)))
    np.testing.assert_array_equal(ki[:, 1:], idx.knn_indices[:, :6])
    np.testing.assert_allclose(kd[:, 1:], 1 - idx.knn_scores[:, :6], atol=1e-6)

def test_map_traces_hover_and_escaping(toy):
    d, cat, emb = toy
    idx = ImageIndex.load(d/'index')
    fig = viz.embedding_map(idx, color='style')
    assert {t.type for t in fig.data} == {'scattergl'}
    assert sorted(t.name for t in fig.data) == sorted(cat['style'].unique())
    assert sum(len(t.x) for t in fig.data) == len(cat)
    hover = np.concatenate([t.customdata for t in fig.data])
    assert '&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Night&quot;' in hover[:, 0]
    assert not any('<img' in h for h in hover[:, 0])
    tmpl = fig.data[0].hovertemplate
    assert tmpl.startswith('<b>%{customdata[0]}</b>')                       # the title, then author, date, style
    for i, col in enumerate(('author', 'date', 'style'), 1): assert f'{col}: %{{customdata[{i}]}}' in tmpl
    assert list(hover[:, 1]).count('BAROQUE MASTER 1') == 3

def test_map_numeric_colour_and_query(toy):
    d, cat, emb = toy
    idx = ImageIndex.load(d/'index')
    q = emb[cat['style'].eq('Cubism').idxmax()]
    fig = viz.embedding_map(idx, color='year', query=q, k=4)
    names = [t.name for t in fig.data]
    assert names == ['year unknown', 'year', 'neighbours', 'query']      # one painting has no year
    assert fig.data[1].marker.showscale and len(fig.data[0].x) == 1
    assert len(fig.data[2].x) == 4 * 3
    xy = viz.umap2d(idx)
    star = np.array([fig.data[3].x[0], fig.data[3].y[0]])
    # the star sits within the bounding box of its neighbours
    res = idx.search(q, k=4); pos = pd.Index(cat['id']).get_indexer(res['id'])
    assert (star >= xy[pos].min(0) - 1e-5).all() and (star <= xy[pos].max(0) + 1e-5).all()
    with pytest.raises(ValueError, match="no column 'colour'"): viz.embedding_map(idx, color='colour')

def test_many_categories_are_capped(toy):
    d, cat, emb = toy
    idx = ImageIndex.load(d/'index')
    fig = viz.embedding_map(idx, color='id')                # 36 distinct values
    assert len(fig.data) == viz.MAX_CATEGORIES + 1 and fig.data[-1].name == '(other)'

def test_thumbnail_grid(toy):
    d, cat, emb = toy
    idx = ImageIndex.load(d/'index')
    res = idx.search(emb[0], k=3)
    caps = viz.result_captions(res)
    assert caps[0].startswith('<b>&lt;img src=x') and 'score 1.000' in caps[0]
    g = viz.thumbnail_grid([idx.image_path(i) for i in res['id']] + ['/no/such.jpg'], caps + ['gone'], ncols=2, size=48)
    assert g.data.count('data:image/jpeg;base64,') == 3 and 'image unavailable' in g.data
    assert '<img src=x' not in g.data

def _i2v(*args):
    exe = Path(sys.executable).parent/'i2v'
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=300)

def test_i2v_map_cli(toy, tmp_path):
    d, cat, emb = toy
    out = tmp_path/'maps'/'map.html'
    r = _i2v('map', '--index', d/'index', '--color', 'school', '--out', out)
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    assert re.findall(r'<(?:script|link)[^>]*(?:src|href)=', page) == []        # offline: plotly.js inline
    assert 'Plotly.newPlot' in page and len(page) > 3_000_000
    for school in cat['school'].unique(): assert f'"name":"{school}"' in page
    r = _i2v('map', '--index', d/'index', '--color', 'colour', '--out', out)
    assert r.returncode == 2 and "no column 'colour'" in r.stderr and 'Traceback' not in r.stderr
    r = _i2v('map', '--index', tmp_path/'nope')
    assert r.returncode == 2 and 'index folder not found' in r.stderr
    r = _i2v('map')
    assert r.returncode == 2 and '--index INDEX_DIR is required' in r.stderr
    r = _i2v('map', '--index', tmp_path/'nope')
    assert r.returncode == 2 and 'index folder not found' in r.stderr

"Headless tests of the search app: build it on a tiny index and drive it as a user would."
import datetime, functools, html, http.server, io, threading
from pathlib import Path
import numpy as np, pandas as pd, pytest
from image_to_vec.core import make_toy_collection, load_image, toy_image
from image_to_vec.search import ImageIndex
from image_to_vec.app import search_app, ANY
from image_to_vec import viz

from image_to_vec.core import colour_histogram as colour_embedder   # a network-free stand-in embedding

EVIL = '<script>alert("x")</script> & <b>bold</b>'

@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    d = tmp_path_factory.mktemp('app')
    cat = make_toy_collection(d/'toy', n_per_style=10)
    cat.loc[0, 'title'] = EVIL; cat.loc[0, 'author'] = 'Jan <i>van</i> Eyck'
    idx = ImageIndex.build(colour_embedder([d/'toy'/p for p in cat['path']]), cat, embedder=colour_embedder,
                           images_root=d/'toy')
    return d, cat, idx

def _png(im):
    b = io.BytesIO(); im.save(b, 'PNG'); return b.getvalue()

def _upload(app, data, name):
    app.upload.value = ({'name': name, 'type': 'image/png', 'size': len(data), 'content': memoryview(data),
                         'last_modified': datetime.datetime.now(datetime.timezone.utc)},)

def test_random_gives_k_results_captions_and_predictions(toy):
    d, cat, idx = toy
    app = search_app(idx, k=5, seed=3, show_map=False)
    assert app.grid.children == () and 'Random painting' in app.status.value
    app.random_button.click()
    q = app.query['id']
    assert q in set(cat['id']) and len(app.grid.children) == 5 and len(app.results) == 5
    assert q not in set(app.results['id'])                                  # the query is not its own result
    assert 'in the collection' in app.query_info.value
    assert 'i2v-ok' in app.status.value and app.progress.layout.visibility == 'hidden'
    for cap, (_, r) in zip(app.captions, app.results.iterrows()):
        assert str(r['year']) in cap and f"score {r['score']:.3f}" in cap
    style = cat.set_index('id').loc[q, 'style']
    assert app.prediction['style']['label'] == style
    bars = [w for row in app.predictions.children if hasattr(row, 'children') for w in row.children if hasattr(w, 'bar_style')]
    assert len(bars) >= 4 and all(0 < b.value <= 1 for b in bars)
    assert any(style in w.value for row in app.predictions.children if hasattr(row, 'children') for w in row.children if hasattr(w, 'value') and isinstance(w.value, str))

def test_slider_filters_and_click_result(toy):
    d, cat, idx = toy
    app = search_app(idx, k=6, seed=0, show_map=False)
    app.random_button.click()
    app.k.value = 2
    assert len(app.grid.children) == 2
    app.k.value = 9
    assert len(app.captions) == 9
    app.filters['style'].value = 'Cubism'
    assert set(app.results['style']) == {'Cubism'} and len(app.results) == 9
    app.years.value = (1910, 1920)
    assert app.results['year'].between(1910, 1920).all()
    app.years.value = (app.years.min, app.years.max)
    first = app.results['id'].iloc[0]
    app.result_buttons[0].click()                                            # "similar" under a result
    assert app.query['id'] == first and first not in set(app.results['id'])
    app.filters['style'].value = 'Baroque'
    app.random_button.click()                                                # random respects the filters
    assert cat.set_index('id').loc[app.query['id'], 'style'] == 'Baroque'

def test_upload_predicts_and_recognises_duplicates(toy):
    d, cat, idx = toy
    app = search_app(idx, k=4, show_map=False)
    _upload(app, _png(toy_image('Impressionism', seed=12345)), 'holiday.png')
    assert app.query['kind'] == 'upload' and app.upload.value == ()
    assert app.prediction['style']['label'] == 'Impressionism' and app.duplicate is None
    assert 'Already in the collection' not in app.query_info.value and len(app.grid.children) == 4
    _upload(app, (d/'toy'/cat['path'][7]).read_bytes(), 'copy.jpg')        # a file of the collection
    assert app.duplicate == cat['id'][7]
    assert 'Already in the collection' in app.query_info.value and '= the query' in app.captions[0]

def test_scraped_text_is_escaped(toy):
    d, cat, idx = toy
    app = search_app(idx, k=3, show_map=False)
    app.search_id(cat['id'][0])
    assert '&lt;script&gt;' in app.query_info.value and '<script>' not in app.query_info.value
    assert 'Jan &lt;i&gt;van&lt;/i&gt; Eyck' in app.query_info.value
    # a copy of the item with markup: it is result #1 (its own duplicate), so its caption is surely checked
    app.search_image((d/'toy'/cat['path'][0]).read_bytes(), 'copy.jpg')
    assert app.duplicate == cat['id'][0] and app.results['id'].iloc[0] == cat['id'][0]
    cap = app.captions[0]
    assert html.escape(EVIL) in cap and 'Jan &lt;i&gt;van&lt;/i&gt; Eyck' in cap and '&lt;' in cap
    caps = ''.join(app.captions)
    assert '<script' not in caps and '<b>bold</b>' not in caps and '<i>van' not in caps
    html_widgets = [app.query_info, app.status] + [c.children[1] for c in app.grid.children]
    for row in app.predictions.children: html_widgets += [w for w in getattr(row, 'children', [row]) if hasattr(w, 'value') and isinstance(w.value, str)]
    assert not any('<script' in w.value for w in html_widgets)

def test_errors_are_messages_not_tracebacks(toy):
    d, cat, idx = toy
    app = search_app(idx, k=3, show_map=False)
    _upload(app, b'%PDF-1.4 definitely not an image', 'report.pdf')
    assert 'i2v-error' in app.status.value and 'Could not read the image &#x27;report.pdf&#x27;' in app.status.value
    assert 'Traceback' not in app.status.value and app.query is None
    app.url.value = 'not a url'; app.url_button.click()
    assert 'Not a web address' in app.status.value
    app.search_url('http://127.0.0.1:9/nothing-here.jpg')                    # connection refused
    assert 'i2v-error' in app.status.value and 'download failed' in app.status.value
    app.random_button.click()
    app.filters['style'].value = 'Baroque'; app.filters['school'].value = 'Spanish'   # nothing is both
    assert 'No painting matches the filters' in app.status.value and app.grid.children == ()
    app.random_button.click()
    assert 'No painting matches the filters' in app.status.value
    app.filters['school'].value = ANY
    assert len(app.grid.children) == 3 and 'i2v-ok' in app.status.value
    app.search_id('no-such-id')
    assert "No painting with id &#x27;no-such-id&#x27;" in app.status.value

@pytest.fixture
def served(toy):
    d = toy[0]
    h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(d/'toy'))
    h.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown()

def test_url_query(toy, served):
    d, cat, idx = toy
    app = search_app(idx, k=3, show_map=False)
    app.url.value = f"{served}/{cat['path'][12]}"; app.url_button.click()
    assert app.query['kind'] == 'url' and app.duplicate == cat['id'][12] and len(app.grid.children) == 3
    app.search_url(f'{served}/images/missing.jpg')
    assert 'HTTP 404' in app.status.value

def test_map_widget_highlights_the_query(toy):
    d, cat, idx = toy
    app = search_app(idx, k=4, seed=1)
    app.random_button.click()
    assert 'i2v-ok' in app.status.value, app.last_error
    m = app.map
    assert type(m).__name__ in ('FigureWidget', 'Figure') and m.data[-1].name == 'query'
    xy = viz.umap2d(idx)
    qi = cat.index[cat['id'] == app.query['id']][0]
    np.testing.assert_allclose([m.data[-1].x[0], m.data[-1].y[0]], xy[qi], rtol=1e-5)
    assert len(m.data[-2].x) == 4 * 3
    _upload(app, _png(toy_image('Cubism', seed=777)), 'cubist.png')         # an outside image lands on the map too
    assert app.query['kind'] == 'upload' and np.isfinite(m.data[-1].x[0])

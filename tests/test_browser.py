"""Real-browser tests: the search app in JupyterLab, and the `i2v map` page offline, in headless Chromium.

They use the system Chromium (Debian `chromium`) through Playwright for Python (no Playwright browser download), and
skip cleanly when Chromium, Playwright or JupyterLab is missing. Screenshots go to `tests/browser/artifacts/`.
Set `I2V_BROWSER_INDEX=INDEX_DIR` to run them on a saved index of your own; `tests/browser/docs_screenshots.py` does
that to retake the docs' screenshots of a real collection (`nbs/images/`)."""
import json, os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import numpy as np, pytest
from image_to_vec.core import make_toy_collection, load_image

CHROMIUM = os.environ.get('I2V_CHROMIUM',   # the browser to drive ('' : none, skip)
                          shutil.which('chromium') or ('/usr/bin/chromium' if Path('/usr/bin/chromium').exists() else ''))
CHROMIUM = CHROMIUM if CHROMIUM and Path(CHROMIUM).exists() else None
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']
ART = Path(__file__).resolve().parent/'browser'/'artifacts'
try: import playwright.sync_api as pw
except ImportError: pw = None
try: import jupyterlab
except ImportError: jupyterlab = None

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason='no chromium on PATH (apt-get install chromium chromium-driver)'),
              pytest.mark.skipif(pw is None, reason='playwright (Python) is not installed')]

from image_to_vec.core import colour_histogram as colour_features   # a network-free stand-in embedding

@pytest.fixture(scope='module')
def toy_index(tmp_path_factory):
    from image_to_vec.search import ImageIndex
    d = tmp_path_factory.mktemp('browser')
    if os.environ.get('I2V_BROWSER_INDEX'):   # run on your own saved index instead (e.g. for docs screenshots)
        index = Path(os.environ['I2V_BROWSER_INDEX']).resolve()
        return d, index, ImageIndex.load(index).catalog
    cat = make_toy_collection(d/'toy', n_per_style=10)
    ImageIndex.build(colour_features([d/'toy'/p for p in cat['path']]), cat, images_root=d/'toy').save(d/'index')
    return d, d/'index', cat

@pytest.fixture(scope='module')
def browser():
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()

def _free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _coloured_pixels(png:Path, box=None)->int:
    "Number of clearly coloured (saturated) pixels in a screenshot: drawn points, not background or text."
    from PIL import Image
    a = np.asarray(Image.open(png).convert('RGB').crop(box) if box else Image.open(png).convert('RGB'), dtype=int)
    return int(((a.max(-1) - a.min(-1)) > 60).sum())

def test_i2v_map_page_offline(toy_index, browser):
    "The standalone map opens with every request outside file:// refused, and draws its points (WebGL)."
    d, index, cat = toy_index
    out = d/'map.html'
    r = subprocess.run([str(Path(sys.executable).parent/'i2v'), 'map', '--index', str(index), '--out', str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    page = browser.new_page(viewport={'width': 900, 'height': 900})   # the page's figure is 800 px high
    outside = []
    def route(rt):
        if rt.request.url.startswith(('file:', 'data:', 'blob:')): return rt.continue_()
        outside.append(rt.request.url); rt.abort()
    page.route('**/*', route)
    page.goto(out.as_uri())
    page.wait_for_selector('.js-plotly-plot .legend', timeout=30_000)
    page.wait_for_timeout(500)
    n = page.evaluate("document.querySelector('.js-plotly-plot')._fullData.reduce((s, t) => s + t.x.length, 0)")
    assert n == len(cat)
    assert page.evaluate("document.querySelectorAll('.js-plotly-plot canvas').length") > 0
    assert 'WebGL is not supported' not in page.inner_text('body')
    box = page.locator('.js-plotly-plot').bounding_box()
    assert box['height'] >= 700 and box['y'] + box['height'] <= 900   # the whole figure fits: nothing cropped
    ART.mkdir(parents=True, exist_ok=True)
    page.locator('.js-plotly-plot').screenshot(path=ART/'map.png')
    page.close()
    assert outside == []
    assert _coloured_pixels(ART/'map.png', box=(0, 60, 700, 700)) > 3 * len(cat)   # the points are drawn

def _notebook(index:Path, k:int)->dict:
    src = (f"from image_to_vec.search import ImageIndex\nfrom image_to_vec.app import search_app\n"
           f"idx = ImageIndex.load({str(index)!r})\napp = search_app(idx, k={k}, seed=0, thumb=110)\napp")
    return {'cells': [{'cell_type': 'code', 'execution_count': None, 'id': 'app', 'metadata': {}, 'outputs': [], 'source': src}],
            'metadata': {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}},
            'nbformat': 4, 'nbformat_minor': 5}

@pytest.fixture(scope='module')
def jupyterlab_server(toy_index):
    if jupyterlab is None: pytest.skip('jupyterlab is not installed')
    d, index, cat = toy_index
    root = d/'lab'; root.mkdir()
    (root/'app.ipynb').write_text(json.dumps(_notebook(index, k=6)))
    port, token = _free_port(), 'i2v-browser-test'
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(d/'jcfg'), 'JUPYTER_RUNTIME_DIR': str(d/'jrun'),
           'JUPYTERLAB_WORKSPACES_DIR': str(d/'jws'), 'PYDEVD_DISABLE_FILE_VALIDATION': '1'}
    # no "would you like news?" toast over the app
    (d/'jcfg'/'labconfig').mkdir(parents=True)
    (d/'jcfg'/'labconfig'/'page_config.json').write_text(json.dumps(
        {'disabledExtensions': {'@jupyterlab/apputils-extension:announcements': True}}))
    log = open(d/'jupyterlab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                             '--ServerApp.port_retries=0', '--allow-root', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
                             '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=None',
                             '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            if proc.poll() is not None: pytest.fail(f'jupyter lab exited:\n{(d/"jupyterlab.log").read_text()[-3000:]}')
            try: urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=2); break
            except OSError: time.sleep(0.5)
        else: pytest.fail(f'jupyter lab did not start:\n{(d/"jupyterlab.log").read_text()[-3000:]}')
        yield base, token, d
    finally:
        proc.terminate()
        try: proc.wait(15)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()
        shutil.copy(d/'jupyterlab.log', ART/'jupyterlab.log') if ART.exists() else None

def test_app_in_jupyterlab(jupyterlab_server, browser):
    "Open a notebook that builds the app, run it, press 'Random painting': the grid shows k images and the map."
    base, token, d = jupyterlab_server
    k = 6
    page = browser.new_page(viewport={'width': 1100, 'height': 1700})
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.goto(f'{base}/lab/tree/app.ipynb?token={token}&reset')
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')", timeout=60_000)
    # wait for the kernel, then run the notebook
    page.wait_for_function("""(() => { const w = window.jupyterapp.shell.currentWidget;
        return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel
               && w.sessionContext.session.kernel.connectionStatus === 'connected'; })()""", timeout=60_000)
    page.evaluate("window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight()")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector('.i2v-app', timeout=90_000)
    assert page.locator('.i2v-app img').count() == 1                       # only the (empty) query image so far
    page.locator('.i2v-app button', has_text='Random painting').click()
    page.wait_for_function(f"document.querySelectorAll('.i2v-app .i2v-caption').length === {k}", timeout=60_000)
    page.wait_for_selector('.i2v-app .i2v-ok', timeout=60_000)             # includes the first map (UMAP)
    page.wait_for_selector('.i2v-app .js-plotly-plot', timeout=30_000)
    imgs = page.locator('.i2v-app .jupyter-widgets.widget-image')
    # k result thumbnails + the query image, all decoded with a real size
    sizes = imgs.evaluate_all("els => els.map(e => [e.naturalWidth, e.naturalHeight])")
    assert len(sizes) == k + 1 and all(w > 0 and h > 0 for w, h in sizes)
    assert 'in the collection' in page.inner_text('.i2v-app')
    caps = page.locator('.i2v-app .i2v-caption').all_inner_texts()
    assert all('score' in c for c in caps)
    # click "similar" under the 2nd result: a new search from that painting
    btn = page.locator('.i2v-app button', has_text='similar').nth(1)
    iid = btn.get_attribute('title').removeprefix('search from ')
    btn.click()
    page.wait_for_function(f"""(() => {{ const e = document.querySelector('.i2v-app .i2v-dup');
        return e && e.innerText.includes({json.dumps(f'(id {iid})')}); }})()""", timeout=30_000)
    page.wait_for_function(f"document.querySelectorAll('.i2v-app .i2v-caption').length === {k}", timeout=30_000)
    page.wait_for_timeout(800)
    ART.mkdir(parents=True, exist_ok=True)
    page.locator('.i2v-app').scroll_into_view_if_needed()
    page.locator('.i2v-app').screenshot(path=ART/'app.png')
    page.close()
    assert not [e for e in errors if 'i2v' in e or 'widget' in e.lower()], errors

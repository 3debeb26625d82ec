"""Retake the docs' screenshots (`nbs/images/app.png`, `nbs/images/map.png`) with `tests/test_browser.py`.

    .venv/bin/python tests/browser/docs_screenshots.py [WORK_DIR]

- The app screenshot shows painting thumbnails, so its index holds only paintings whose licence is clear: a slice of
  `../shared/data/wikiart_styles11` restricted to pre-1900 styles (Baroque, Rococo, Impressionism, Pointillism) and to
  painters matched in the Web Gallery of Art who died in 1925 or before (public domain), 40 per style.
- The map screenshot shows no image, only points: its index is 40 paintings of each of the 11 styles.
Both are embedded with the bare ImageNet backbone (`Embedder.from_backbone()`). A PNG over 200 kB is reduced to a
256-colour palette. Nothing from `../shared` is copied into the repository except these two screenshots."""
import os, shutil, subprocess, sys, tempfile
from pathlib import Path
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent/'shared'/'data'/'wikiart_styles11'
ART, IMAGES = REPO/'tests'/'browser'/'artifacts', REPO/'nbs'/'images'
PD_STYLES = ['Baroque', 'Rococo', 'Impressionism', 'Pointillism']
MAX_BYTES = 200_000

def death_year(born_died:pd.Series)->pd.Series:
    "Death year from WGA's '(b. 1606, Leiden, d. 1669, Amsterdam)' text (NA when unknown)."
    return pd.to_numeric(born_died.astype('string').str.extract(r'd\.\s*(?:ca\.\s*)?(\d{4})')[0], errors='coerce')

def as_catalog(sl:pd.DataFrame)->pd.DataFrame:
    "labels.csv rows -> catalog vocabulary (id, date, year, school)."
    sl = sl.reset_index(drop=True)
    return sl.assign(id=sl['path'].str.rsplit('/', n=1).str[-1].str.removesuffix('.jpg'),
                     date=sl['year'].astype('Int64').astype('string'), year=sl['year'].astype('Int64'), school=sl['wga_school'])

def public_domain_slice(lab:pd.DataFrame, n:int=40, died_by:int=1925, seed:int=0)->pd.DataFrame:
    "`n` paintings per pre-1900 style, by painters matched in WGA who died by `died_by`."
    ok = lab['style'].isin(PD_STYLES) & lab['wga_match'].isin(['exact', 'subset']) & death_year(lab['wga_born_died']).le(died_by)
    return as_catalog(lab[ok].groupby('style').sample(n, random_state=seed))

def all_styles_slice(lab:pd.DataFrame, n:int=40, seed:int=0)->pd.DataFrame:
    "`n` paintings of each of the 11 styles (for the map: points only, no image is shown)."
    return as_catalog(lab.groupby('style').sample(n, random_state=seed))

def build_index(cat, dest:Path):
    from image_to_vec.embed import Embedder, embed_catalog
    from image_to_vec.search import ImageIndex
    e = Embedder.from_backbone()
    emb, cat, fails = embed_catalog(cat, SHARED, e, progress=False)
    assert not len(fails), fails
    ImageIndex.build(emb, cat, embedder=e, images_root=SHARED).save(dest)
    return dest

def shoot(index:Path, test:str, name:str):
    "Run one browser test on `index` and copy its screenshot to nbs/images/NAME (palette PNG if too big)."
    from PIL import Image
    env = {**os.environ, 'I2V_BROWSER_INDEX': str(index)}
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-x', f'tests/test_browser.py::{test}'], cwd=REPO, env=env)
    if r.returncode: sys.exit(f'{test} failed')
    IMAGES.mkdir(exist_ok=True)
    src, dst = ART/name, IMAGES/name
    Image.open(src).convert('RGB').save(dst, optimize=True)
    if dst.stat().st_size > MAX_BYTES:
        Image.open(src).convert('RGB').quantize(256, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)
    print(f'{dst}: {dst.stat().st_size/1e3:.0f} kB')

if __name__ == '__main__':
    if not SHARED.exists(): sys.exit(f'{SHARED} not found')
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    lab = pd.read_csv(SHARED/'labels.csv')
    pd_cat = public_domain_slice(lab)
    print(pd_cat.groupby(['style', 'author']).size().to_string())
    shoot(build_index(pd_cat, work/'wikiart_public_domain'), 'test_app_in_jupyterlab', 'app.png')
    shoot(build_index(all_styles_slice(lab), work/'wikiart_11_styles'), 'test_i2v_map_page_offline', 'map.png')

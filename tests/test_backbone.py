"Backbone weights from local files: the shared safetensors (skipped when ../shared is absent)."
from pathlib import Path
import pytest, torch
from image_to_vec.backbone import create_backbone, module_fingerprint, resolve_weights

SHARED = Path(__file__).resolve().parents[2]/'shared'
W = SHARED/'weights'
need_shared = pytest.mark.skipif(not W.exists(), reason="../shared/weights is absent")

@need_shared
def test_shared_lite0_file_equals_bundled():
    a = create_backbone('tf_efficientnet_lite0', weights=W/'tf_efficientnet_lite0.in1k.safetensors')
    b = create_backbone('tf_efficientnet_lite0')
    assert a.source.kind == 'file' and b.source.kind == 'bundled'
    assert module_fingerprint(a) == module_fingerprint(b)

@need_shared
def test_weights_dir_env(monkeypatch):
    monkeypatch.setenv('I2V_WEIGHTS_DIR', str(W))
    assert resolve_weights('tf_efficientnet_lite0').kind == 'file'

@need_shared
def test_torchvision_mobilenet_features_only_file():
    bb = create_backbone('tv:mobilenet_v2', weights=W/'mobilenet_v2_features.in1k.safetensors')
    assert bb.feat_dim == 1280 and bb.lib == 'torchvision'
    with torch.no_grad(): f = bb(torch.randn(2, 3, 224, 224))
    assert f.shape == (2, 1280)
    rnd = create_backbone('tv:mobilenet_v2', pretrained=False)
    assert module_fingerprint(bb) != module_fingerprint(rnd)

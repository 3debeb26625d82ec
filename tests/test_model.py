"Encoder: masked losses, SupCon term, save -> load -> identical embeddings, refusing unknown configs."
import json, pytest, torch
import torch.nn.functional as F
from image_to_vec.model import (IGNORE, masked_ce, EncoderLoss, create_encoder, save_encoder, load_encoder,
                                ModelFormatError, encoder_fingerprint)

def test_masked_ce_ignores_missing_and_handles_all_missing():
    torch.manual_seed(0); lg = torch.randn(5, 4, requires_grad=True)
    y = torch.tensor([1, IGNORE, 3, IGNORE, 0])
    assert torch.allclose(masked_ce(lg, y), F.cross_entropy(lg[[0, 2, 4]], y[[0, 2, 4]]))
    z = masked_ce(lg, torch.full((5,), IGNORE)); assert z.item() == 0. and not torch.isnan(z)
    z.backward()  # still differentiable

def test_encoder_loss_sums_targets_and_supcon():
    torch.manual_seed(0)
    emb = F.normalize(torch.randn(6, 8), dim=1); l1, l2 = torch.randn(6, 3), torch.randn(6, 2)
    y1 = torch.tensor([0, 0, 1, 1, 2, IGNORE]); y2 = torch.full((6,), IGNORE)
    ce = EncoderLoss(['style', 'school'], contrastive=0.)((emb, l1, l2), y1, y2)
    assert torch.allclose(ce, masked_ce(l1, y1))          # the all-missing school adds nothing
    both = EncoderLoss(['style', 'school'], contrastive=1.)((emb, l1, l2), y1, y2)
    assert both > ce
    sc_only = EncoderLoss(['style', 'school'], contrastive=1., ce=0.)((emb, l1, l2), y1, y2)
    assert torch.allclose(both, ce + sc_only)

def test_class_weights_change_the_loss():
    lg = torch.randn(4, 2); y = torch.tensor([0, 0, 0, 1])
    w = EncoderLoss(['t'], 0., class_weights={'t': torch.tensor([0.1, 10.])})((torch.zeros(4, 2), lg), y)
    assert not torch.allclose(w, masked_ce(lg, y))

def test_save_load_identical_and_refuses_unknown(tmp_path):
    enc = create_encoder({'style': ['a', 'b']}, pretrained=False, dim=16, hidden=32, img_size=32, feature_kind='stats').eval()
    x = torch.randn(3, 3, 32, 32)
    save_encoder(enc, tmp_path/'m')
    enc2 = load_encoder(tmp_path/'m')
    with torch.no_grad(): assert torch.equal(enc.embed(x), enc2.embed(x))
    assert encoder_fingerprint(enc) == encoder_fingerprint(enc2)
    cfg = json.loads((tmp_path/'m'/'config.json').read_text())
    assert cfg['vocabs'] == {'style': ['a', 'b']} and cfg['cfg']['img_size'] == 32 and cfg['version'] == 1
    (tmp_path/'m'/'config.json').write_text(json.dumps(cfg | {'version': 2}))
    with pytest.raises(ModelFormatError, match='version 2 is not supported'): load_encoder(tmp_path/'m')
    (tmp_path/'m'/'config.json').write_text(json.dumps(cfg | {'dim': 8}))
    with pytest.raises(ModelFormatError, match='weights do not match'): load_encoder(tmp_path/'m')
    (tmp_path/'m'/'config.json').write_text(json.dumps(cfg)); (tmp_path/'m'/'weights.safetensors').write_bytes(b'xx')
    with pytest.raises(ModelFormatError, match='not a readable safetensors'): load_encoder(tmp_path/'m')
    with pytest.raises(ModelFormatError, match='not found'): load_encoder(tmp_path/'nope')

"Catalog -> DataLoaders: masked labels, rare classes folded, author-grouped split, clear errors."
import numpy as np, pandas as pd, pytest, torch
from image_to_vec.core import make_toy_collection
from image_to_vec.model import IGNORE
from image_to_vec.data import make_vocabs, encode_labels, author_split, catalog_targets, encoder_dls, OTHER

@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    d = tmp_path_factory.mktemp('toy'); return d, make_toy_collection(d, n_per_style=12, size=32)

def test_missing_labels_are_masked_not_invented():
    df = pd.DataFrame(dict(path=list('abcde'), school=['Dutch', None, '', 'Dutch', float('nan')]))
    v = make_vocabs(df, ['school'], min_count=1)
    assert v == {'school': ['Dutch']}          # no class for "missing"
    assert encode_labels(df, v)[:, 0].tolist() == [0, IGNORE, IGNORE, 0, IGNORE]

def test_rare_classes_fold_into_other():
    df = pd.DataFrame(dict(path=list('abcdef'), style=['A', 'A', 'A', 'B', 'C', None]))
    v = make_vocabs(df, ['style'], min_count=2)
    assert v['style'] == ['A', OTHER]
    assert encode_labels(df, v)[:, 0].tolist() == [0, 0, 0, 1, 1, IGNORE]
    assert encode_labels(pd.DataFrame(dict(style=['Z'])), v)[0, 0] == 1   # unseen label -> other

@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_split_never_leaks_authors(toy, seed):
    _, cat = toy
    tr, va = author_split(cat, 0.25, seed)
    assert len(va) > 0 and len(tr) > 0 and len(set(tr) | set(va)) == len(cat)
    assert not set(cat['author'].iloc[tr]) & set(cat['author'].iloc[va])
    assert (author_split(cat, 0.25, seed)[1] == va).all()

def test_period_from_year_and_unknown_target(toy):
    _, cat = toy
    df, ts = catalog_targets(cat.drop(columns=['period']), 'style,period')
    assert ts == ['style', 'period'] and df['period'].iloc[0].endswith('century')
    with pytest.raises(ValueError, match="unknown target 'painter'"): catalog_targets(cat, 'style,painter')

def test_dls_batches_carry_masked_targets(toy):
    d, cat = toy
    cat = cat.copy(); cat.loc[::2, 'school'] = None
    dls = encoder_dls(cat, d, 'style,school', bs=6, min_count=2,
                      cfg=dict(img_size=32, mean=(.5,)*3, std=(.25,)*3, crop_pct=1.))
    x, ys, ysc = dls.one_batch()
    assert x.shape == (6, 3, 32, 32) and ys.dtype == torch.long
    allsc = torch.cat([b[2] for b in dls.train] + [b[2] for b in dls.valid])
    assert (allsc == IGNORE).any() and (allsc >= 0).any()

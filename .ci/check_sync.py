"Fail if `nbdev-export`, `nbdev-clean` or the README build would change any file: the library must be exported from clean notebooks, README.md made from index.ipynb."
import hashlib, subprocess, sys
from pathlib import Path

def snapshot():
    files = [*Path('image_to_vec').rglob('*.py'), *Path('nbs').rglob('*.ipynb'), Path('README.md')]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.exists() and '.ipynb_checkpoints' not in str(f)}

bin_ = Path(sys.executable).parent
before = snapshot()
subprocess.run([bin_/'nbdev-export'], check=True)
subprocess.run([bin_/'nbdev-clean'], check=True)
subprocess.run([sys.executable, '.ci/readme.py'], check=True)
after = snapshot()
changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
if changed:
    print("Out of sync: nbdev-export / nbdev-clean changed these files (they are updated now; commit them):")
    for c in changed: print("  ", c)
    sys.exit(1)
print(f"ok: {len(after)} files; library matches the notebooks and the notebooks are clean")

"""Execute a notebook in place to store its teaching outputs, skipping `#| eval: false` cells (they need the internet).
Usage: .venv/bin/python .ci/exec_nb.py nbs/60_tutorial.ipynb && .venv/bin/nbdev-clean"""
import sys, nbformat
from nbclient import NotebookClient
p = sys.argv[1]
nb = nbformat.read(p, as_version=4)
skip = []
for c in nb.cells:
    if c.cell_type == 'code' and c.source.lstrip().startswith('#| eval: false'):
        c.metadata.setdefault('tags', []).append('skip-execution'); skip.append(c)
NotebookClient(nb, timeout=300, kernel_name='python3', resources={'metadata': {'path': 'nbs'}}).execute()
for c in skip:
    c.metadata['tags'].remove('skip-execution')
    if not c.metadata['tags']: del c.metadata['tags']
nbformat.write(nb, p)

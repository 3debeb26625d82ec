"""Pre-process the notebooks for the docs site (what `nbdev-proc-nbs` does) without nbdev's attempt to install
Quarto: writes `_proc/`, ready for `quarto render` wherever Quarto exists. Fails if any notebook cannot be processed."""
from nbdev.config import get_config
from nbdev.quarto import refresh_quarto_yml, nbdev_sidebar
from nbdev.serve import proc_nbs

def main():
    cfg = get_config()
    refresh_quarto_yml()
    nbdev_sidebar.__wrapped__(path=cfg.nbs_path)
    proc_nbs(n_workers=2)
    check(cfg)

def check(cfg):
    procd = sorted(p.name for p in (cfg.config_path/'_proc').glob('*.ipynb'))
    srcs = sorted(p.name for p in cfg.nbs_path.glob('*.ipynb'))
    missing = set(srcs) - set(procd)
    if missing: raise SystemExit(f"docs pre-processing missed: {sorted(missing)}")
    print(f"ok: {len(procd)} notebooks pre-processed into _proc/ for quarto")

if __name__ == '__main__': main()

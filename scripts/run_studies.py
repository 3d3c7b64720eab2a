"""Run the study pages of docs/studies/ and check the numbers they state.

Each page's ```bash blocks are run in order, from the repository root, in one bash with
``set -euo pipefail``, ``OUT`` set to the output folder and the folder of this Python's
``wholesoil`` program (``.venv/bin``) first on PATH. The pages run in the order of
docs/studies/README.md in one output folder (a page may use the outputs of the pages before
it). Then every row of a page's results table (between
``<!-- results -->`` and ``<!-- /results -->``) is compared with the number that
:data:`READERS` computes from the outputs for that row: the first number of the "ours" cell
must equal it at the precision printed.

  .venv/bin/python scripts/run_studies.py                    # run all pages, check them
  .venv/bin/python scripts/run_studies.py --out DIR rh       # one page (and the pages it needs)
  .venv/bin/python scripts/run_studies.py --update           # write the computed numbers into the pages
  .venv/bin/python scripts/run_studies.py --out DIR --no-run # check the outputs already in DIR

tests/test_studies.py runs the same functions.
"""

import argparse
import functools
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "docs" / "studies"
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
RESULTS = re.compile(r"<!-- results -->\n(.*?)<!-- /results -->", re.S)
NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?")


# ---------------------------------------------------------------- reading numbers off the outputs

def table(out, name):
    return pd.read_csv(Path(out) / name, low_memory=False)


def model_metadata(out, name):
    return saved_model(Path(out) / name).metadata


def trained(out, name):
    """The rows a saved model was fitted on."""
    return saved_model(Path(out) / name).tables["training"]


@functools.lru_cache(maxsize=None)
def saved_model(path):
    from wholesoil.core.learn.modelfile import load_model

    return load_model(path)


def aggregated(out, name, band, zoning="all", zone="all"):
    """The row of an `aggregate` table for one band and zone."""
    rows = table(out, name)
    rows = rows[(rows["band"] == band) & (rows["zoning"] == zoning) & (rows["zone"].astype(str) == zone)]
    if len(rows) != 1:
        raise KeyError(f"{name}: no single row for band {band!r}, zone {zoning}/{zone}")
    return rows.iloc[0]


def bnpp_numbers(out):
    sites = table(out, "bnpp_sites_layers.csv")
    layers = [c for c in sites.columns if re.fullmatch(r"bnpp_\d+_\d+", c)]
    split = sites[layers].dropna()
    profile = split.sum(axis=1).mean()
    mapped = aggregated(out, "bnpp_totals.csv", "bnpp_mean")
    layer_means = {band: aggregated(out, "bnpp_layers_totals.csv", f"bnpp_{band}_mean")["total"]
                   for band in ("0_20", "20_40", "40_60", "60_80", "80_100", "100_150", "150_200")}
    whole = sum(layer_means.values())
    return {
        "mean BNPP 0–200 cm at the sites (Mg C ha⁻¹ yr⁻¹)": sites["bnpp_Mg_ha_yr"].mean(),
        "mean BNPP 0–20 cm at the sites (Mg C ha⁻¹ yr⁻¹)": split["bnpp_0_20"].mean(),
        "share of site BNPP in 0–20 cm (%)": 100 * split["bnpp_0_20"].mean() / profile,
        "share of site BNPP in 0–40 cm (%)": 100 * split[["bnpp_0_20", "bnpp_20_40"]].sum(axis=1).mean() / profile,
        "records on the covariate grid (the forest's data)": model_metadata(out, "bnpp.wsmodel")["n_rows"],
        "locations of those records (the folds' groups)": model_metadata(out, "bnpp.wsmodel")["n_groups"],
        "mean BNPP of the records on the covariate grid (Mg C ha⁻¹ yr⁻¹)":
            trained(out, "bnpp.wsmodel")["bnpp_Mg_ha_yr"].mean(),
        "BNPP forest, grouped 5-fold CV R²": model_metadata(out, "bnpp.wsmodel")["metrics"]["r2"],
        "BNPP forest, grouped 5-fold CV NSE": model_metadata(out, "bnpp.wsmodel")["metrics"]["nse"],
        "mapped mean BNPP 0–200 cm (Mg C ha⁻¹ yr⁻¹)": mapped["mean"],
        "mapped BNPP 0–200 cm, total (Pg C yr⁻¹)": mapped["total_pg"],
        "mapped area (million km²)": mapped["area_ha"] / 1e8,
        "share of the mapped area outside the area of applicability (%)":
            100 * (1 - aggregated(out, "bnpp_totals.csv", "bnpp_aoa")["mean"]),
        "mapped share of BNPP in 0–20 cm (%)": 100 * layer_means["0_20"] / whole,
        "mapped share of BNPP in 0–40 cm (%)": 100 * (layer_means["0_20"] + layer_means["20_40"]) / whole,
        "mean U_total, 0–20 cm": aggregated(out, "bnpp_layers_totals.csv", "bnpp_0_20_utotal")["mean"],
        "mean U_total, 150–200 cm": aggregated(out, "bnpp_layers_totals.csv", "bnpp_150_200_utotal")["mean"],
    }


def iloss_numbers(out):
    ages = table(out, "israd_ages.csv")
    kept = ages["pro_treatment"].eq("control") & ages["pro_peatland"].ne("yes") & ages["lyr_top"].ge(0)
    ages = ages[kept]
    layers = table(out, "israd_ibulk_standard5.csv")
    ibulk = layers.dropna(subset=["ibulk_mg_ha_yr"]).groupby("lyr_top")["ibulk_mg_ha_yr"].mean()

    def mapped(band):
        return aggregated(out, "loss_totals.csv", band)

    def estimate(name, number):
        summary = table(out, name)
        return 100 * summary.loc[summary["estimate"] == number, "iloss_fraction"].iloc[0]

    return {
        "mean C age, 0–30 cm (yr)": ages.loc[ages["lyr_bot"].le(30), "age_slow_yr"].mean(),
        "mean C age, 0–200 cm (yr)": ages.loc[ages["lyr_bot"].le(200), "age_slow_yr"].mean(),
        "mean Ibulk at the profiles, 0–20 cm (Mg C ha⁻¹ yr⁻¹)": ibulk[0],
        "mean Ibulk at the profiles, 20–40 cm (Mg C ha⁻¹ yr⁻¹)": ibulk[20],
        "ISRaD profiles on the grid with a 0–20 cm Ibulk (the forest's data)":
            model_metadata(out, "ibulk_0_20.wsmodel")["n_rows"],
        "Ibulk forest 0–20 cm, grouped 5-fold CV R²": model_metadata(out, "ibulk_0_20.wsmodel")["metrics"]["r2"],
        "Ibulk forest 0–20 cm, grouped 5-fold CV NSE": model_metadata(out, "ibulk_0_20.wsmodel")["metrics"]["nse"],
        "mapped mean Iroot, 0–20 cm (Mg C ha⁻¹ yr⁻¹)": mapped("iroot_0_20_mean")["mean"],
        "mapped mean Ibulk, 0–20 cm (Mg C ha⁻¹ yr⁻¹)": mapped("ibulk_0_20_mean")["mean"],
        "mapped mean Iloss, 0–20 cm (Mg C ha⁻¹ yr⁻¹)": mapped("iloss_0_20_mean")["mean"],
        "mapped mean Iroot, 0–100 cm (Mg C ha⁻¹ yr⁻¹)": mapped("iroot_profile_mean")["mean"],
        "mapped mean Ibulk, 0–100 cm (Mg C ha⁻¹ yr⁻¹)": mapped("ibulk_profile_mean")["mean"],
        "mapped Iloss / Iroot, 0–100 cm (%)": 100 * mapped("iloss_profile_mean")["total"]
        / mapped("iroot_profile_mean")["total"],
        "estimate ① Iloss / Iroot, 0–100 cm (%)": estimate("iloss_estimate1.csv", 1),
        "estimate ③ Iloss / Iroot, 0–100 cm (%)": estimate("iloss_estimate3_summary.csv", 3),
    }


def subsoil_numbers(out):
    profiles = table(out, "israd_beta.csv")
    deep = profiles[profiles["status"].eq("ok") & profiles["observed_depth_cm"].ge(100)
                    & profiles["n_increments"].ge(4)]["beta"]
    neon = table(out, "neon_beta.csv")
    tested = table(out, "neon_beta_predicted.csv").dropna(subset=["beta", "predicted"])
    subsoil = aggregated(out, "subsoil_totals.csv", "soc_20_100_mean")
    return {
        "profiles with a β (0–1 m, more than three horizons)": len(deep),
        "of them on the covariate grid (the β forest's data)": model_metadata(out, "beta.wsmodel")["n_rows"],
        "NEON megapits on the grid (the independent test)": len(tested),
        "ISRaD profiles on the grid with a 0–20 cm stock (the topsoil forest's data)":
            model_metadata(out, "soc_0_20.wsmodel")["n_rows"],
        "β, 5th percentile of the profiles": deep.quantile(0.05),
        "β, median of the profiles": deep.median(),
        "β, 95th percentile of the profiles": deep.quantile(0.95),
        "β, median of the NEON megapits": neon.loc[neon["status"].eq("ok"), "beta"].median(),
        "β forest, grouped 5-fold CV R²": model_metadata(out, "beta.wsmodel")["metrics"]["r2"],
        "β forest, grouped 5-fold CV NSE": model_metadata(out, "beta.wsmodel")["metrics"]["nse"],
        "β forest on the NEON megapits, RMSE": float(np.sqrt(((tested["predicted"] - tested["beta"]) ** 2).mean())),
        "mapped mean β (Americas)": aggregated(out, "beta_totals.csv", "beta_mean")["mean"],
        "mapped mean SOC 0–20 cm (Mg C ha⁻¹)": aggregated(out, "soc_0_20_totals.csv", "soc_0_20_mean")["mean"],
        "mapped mean SOC 20–100 cm (Mg C ha⁻¹)": subsoil["mean"],
        "mapped SOC 20–100 cm, total (Pg C)": subsoil["total_pg"],
    }


def rh_numbers(out):
    metadata = model_metadata(out, "rh.wsmodel")
    rh = aggregated(out, "rh_totals.csv", "rh_mean")
    two_box = table(out, "two_box.csv")
    first, last = two_box.iloc[0], two_box.iloc[-1]
    return {
        "records on the covariate grid": int(table(out, "rh_records_cov.csv")["bio1"].notna().sum()),
        "records in the forest": metadata["n_rows"],
        "Rh forest, grouped CV R²": metadata["metrics"]["r2"],
        "Rh forest, CV NSE": metadata["metrics"]["nse"],
        "Rh forest, CV RMSE (g C m⁻² yr⁻¹)": metadata["metrics"]["rmse"],
        "Rh, total over the mapped land (Pg C yr⁻¹)": rh["total_pg"],
        "mapped area (million km²)": rh["area_ha"] / 1e8,
        "mapped mean Rh (g C m⁻² yr⁻¹)": rh["mean"],
        "share of the mapped area outside the area of applicability (%)":
            100 * (1 - aggregated(out, "rh_totals.csv", "rh_aoa")["mean"]),
        "τ_soil, area-weighted mean over the map (yr)": aggregated(out, "tau_totals.csv", "tau")["mean"],
        "2-box model: corrected / uncorrected soil carbon gain since 1901":
            (last["csoil_mean"] - first["csoil_mean"]) / (last["csoil_sim"] - first["csoil_sim"]),
    }


def bimodality_numbers(out):
    deju = table(out, "deju_root_modes.csv").iloc[0]
    fine = table(out, "silsoe_modes_bw15.csv")
    wide = table(out, "silsoe_modes_bw30.csv")
    wider = table(out, "silsoe_modes_bw45.csv")
    metrics = model_metadata(out, "silsoe_bimodality.wsmodel")["metrics"]
    return {
        "DEJU primary mode D0 (cm)": deju["d0_cm"],
        "DEJU relative soil N concentration, depth exponent (log10 per cm)": deju["rel_nitrogenTot_exponent"],
        "Silsoe profiles with a counted second mode, bandwidth 15 cm": int(fine["modality"].ne("unimodal").sum()),
        "Silsoe profiles with a counted second mode, bandwidth 30 cm": int(wide["modality"].ne("unimodal").sum()),
        "Silsoe profiles with a counted second mode, bandwidth 45 cm": int(wider["modality"].ne("unimodal").sum()),
        "classifier accuracy (%)": 100 * metrics["accuracy"],
        "classifier balanced accuracy (%)": 100 * metrics["balanced_accuracy"],
    }


#: page file name -> function of the output folder giving {row label of the results table: number}.
READERS = {
    "bnpp.md": bnpp_numbers,
    "iloss.md": iloss_numbers,
    "subsoil.md": subsoil_numbers,
    "rh.md": rh_numbers,
    "root_bimodality.md": bimodality_numbers,
}


# ---------------------------------------------------------------- pages

def pages():
    """The study pages in the order of the index (docs/studies/README.md)."""
    index = (STUDIES / "README.md").read_text()
    names = re.findall(r"\]\(([a-z0-9_]+\.md)\)", index)
    return [STUDIES / name for name in dict.fromkeys(names)]


def bash_blocks(page):
    return BASH_BLOCK.findall(Path(page).read_text())


def run_page(page, out, log=print):
    """Run the page's bash blocks in ``out``; returns (exit code, seconds, stderr tail)."""
    script = "set -euo pipefail\n" + "\n".join(bash_blocks(page))
    # the wholesoil program of this Python's environment (.venv/bin) first
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, OUT=str(out), PATH=path, PYTHONWARNINGS="ignore")
    start = time.perf_counter()
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log(f"{Path(page).name}: exit {done.returncode} in {seconds:.0f} s")
    return done.returncode, seconds, (done.stdout + done.stderr)[-4000:]


def results_rows(page):
    """{label: (ours cell, line number)} of the page's results table."""
    text = Path(page).read_text()
    match = RESULTS.search(text)
    if not match:
        raise ValueError(f"{Path(page).name}: no <!-- results --> table")
    lines = match.group(1).strip().splitlines()
    header = [c.strip().lower() for c in lines[0].strip("|").split("|")]
    column = header.index("ours")
    first = text[:match.start(1)].count("\n") + 1
    rows = {}
    for offset, line in enumerate(lines[2:], start=2):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = (cells[column], first + offset)
    return rows


def stated(cell):
    """(value, decimals) of the first number of a cell."""
    match = NUMBER.search(cell)
    if not match:
        raise ValueError(f"no number in {cell!r}")
    text = match.group(0).replace("−", "-")
    return float(text), len(text.split(".")[1]) if "." in text else 0


def formatted(value, decimals, like):
    text = f"{value:.{decimals}f}"
    return text.replace("-", "−") if "−" in like else text


def check_page(page, out):
    """Differences between the page's results table and the outputs: a list of messages (empty: all agree)."""
    computed = READERS[Path(page).name](out)
    rows = results_rows(page)
    problems = [f"{Path(page).name}: row {label!r} is not in the results table" for label in computed
                if label not in rows]
    problems += [f"{Path(page).name}: row {label!r} has no reader in scripts/run_studies.py" for label in rows
                 if label not in computed]
    for label, value in computed.items():
        if label not in rows:
            continue
        number, decimals = stated(rows[label][0])
        if not (math.isfinite(value) and abs(value - number) <= 0.5 * 10 ** -decimals * (1 + 1e-9) + 1e-12):
            problems.append(f"{Path(page).name}:{rows[label][1]}: {label}: the page says {number:.{decimals}f}, "
                            f"the outputs give {value:.{decimals + 3}g}")
    return problems


def update_page(page, out):
    """Write the computed numbers into the "ours" cells (same precision); returns the rows changed."""
    computed = READERS[Path(page).name](out)
    lines = Path(page).read_text().splitlines(keepends=True)
    changed = []
    for label, (cell, line_number) in results_rows(page).items():
        if label not in computed:
            continue
        match = NUMBER.search(cell)
        _, decimals = stated(cell)
        new_cell = cell[:match.start()] + formatted(computed[label], decimals, match.group(0)) + cell[match.end():]
        if new_cell != cell:
            line = lines[line_number - 1]
            lines[line_number - 1] = line.replace(f"| {cell} |", f"| {new_cell} |", 1)
            changed.append(f"{label}: {cell} -> {new_cell}")
    Path(page).write_text("".join(lines))
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help="page names (default all), e.g. rh or rh.md")
    parser.add_argument("--out", help="output folder (default a temporary folder)")
    parser.add_argument("--update", action="store_true", help="write the computed numbers into the pages")
    parser.add_argument("--no-run", action="store_true", help="check (or --update) against the outputs already in --out")
    args = parser.parse_args(argv)
    chosen = pages()
    if args.pages:
        wanted = {name if name.endswith(".md") else f"{name}.md" for name in args.pages}
        last = max(i for i, page in enumerate(chosen) if page.name in wanted)
        chosen = chosen[:last + 1]  # the pages before it too: it may use their outputs
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="wholesoil-studies-"))
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    if args.no_run and not args.out:
        parser.error("--no-run needs --out")
    for page in chosen:
        code, _, tail = (0, 0, "") if args.no_run else run_page(page, out)
        if code:
            print(tail, file=sys.stderr)
            return 1
        if args.update:
            for change in update_page(page, out):
                print(f"  updated {change}")
        for problem in check_page(page, out):
            print(f"  {problem}")
            failed = True
    print(f"outputs in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

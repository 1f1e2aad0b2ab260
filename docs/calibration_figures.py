"""Print the default city's calibration figures (used in docs/calibration.md).

    .venv/bin/python docs/calibration_figures.py
"""

import numpy as np

from sim.classes import classify
from sim.run import run

r = run(seed=2024, months=120, snapshot_months=[0, 120], size_law="law20_2008")
print("| figure | target | month 0 | month 120 |\n|---|---|---:|---:|")
snaps = [r.snapshots[0], r.snapshots[120]]


def share(s, name):
    return 100 * float((s["size_class"] == name).mean())


for name, target in (("micro", "98.67 %"), ("small", "1.22 %"), ("medium", "0.10 %")):
    print(f"| {name} share, Law 20/2008 | {target} | {share(snaps[0], name):.2f} % | "
          f"{share(snaps[1], name):.2f} % |")
for s_i, s in enumerate(snaps):
    pp = classify("pp7_2021", s["capital"].to_numpy(), s["annual_sales"].to_numpy(),
                  s["age_months"].to_numpy())
    snaps[s_i] = s.assign(pp=pp)
print(f"| micro share, PP 7/2021 | higher than Law 20/2008 | "
      f"{100 * (snaps[0]['pp'] == 0).mean():.2f} % | {100 * (snaps[1]['pp'] == 0).mean():.2f} % |")
print(f"| firms | ≈ 90,000 | {len(snaps[0]):,} | {len(snaps[1]):,} |")
for name, target in (("micro", "Rp 76.1 M"), ("small", "Rp 1.64 bn"), ("medium", "Rp 29.7 bn")):
    vals = [s.loc[s["size_class"] == name, "annual_sales"].mean() / 1e6 for s in snaps]
    print(f"| mean annual sales, {name} (Law 20/2008) | {target} | Rp {vals[0]:,.0f} M | Rp {vals[1]:,.0f} M |")
for name, target in (("micro", "≈ 1.7"), ("small", "≈ 7.5"), ("medium", "≈ 60")):
    vals = [s.loc[s["size_class"] == name, "workers"].mean() for s in snaps]
    print(f"| workers per firm, {name} | {target} | {vals[0]:.1f} | {vals[1]:.1f} |")
m = r.monthly.iloc[1:]
print(f"| export share of MSME sales (mean over the run) | 14.5 % | | {100 * m['export_share'].mean():.1f} % |")
s = r.survival
print(f"| entrants alive after 24 / 48 months | 66 % / 44 % | | {100 * s[24]:.0f} % / {100 * s[48]:.0f} % |")
print(f"| exit hazard in year 1 / in year 5 | falling with age | | "
      f"{100 * (1 - s[12]):.1f} % / {100 * (1 - s[60] / s[48]):.1f} % |")
micro = r.monthly["micro"].iloc[1:].mean()
print(f"| graduations micro→small per year, Law 20/2008, % of micro | ≈ 0.5 %/yr (licence upgrades) | | "
      f"{100 * m['grad_micro_small'].sum() / 10 / micro:.2f} %/yr |")
print(f"| Gini of annual sales | – | {r.monthly['sales_gini'].iloc[0]:.3f} | {r.monthly['sales_gini'].iloc[-1]:.3f} |")
hist, edges = np.histogram(np.log10(snaps[1]["annual_sales"].clip(lower=1)), bins=np.arange(6, 11.5, 0.5))
bins = dict(zip(edges[:-1].round(1).tolist(), hist.tolist(), strict=True))
print("\nFirms by annual sales (log10 Rp bins, month 120):", bins)

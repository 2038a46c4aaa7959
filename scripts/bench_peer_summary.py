#!/usr/bin/env python3
"""Summary of `make bench-peer` (scripts/bench-peer.sh): per protocol and dtype, both tools' tokens/s per round,
the ratio SLEB-J / llama.cpp of each round (adjacent runs), and the median ratio with its min-max spread.
Prints a table, writes DIR/summary.md and inserts rows into the --md file at its '<!-- rows:peer -->' marker."""
import argparse, datetime, glob, json, os, platform, re, statistics, subprocess, sys

PROTOCOLS = [("pp512", "prompt 512 (llama-bench pp512)"), ("tg128", "generation 128 (llama-bench tg128)"),
             ("ppl", "perplexity -c 512 (llama-perplexity)")]


def llamacpp(path):
    """(tokens/s, ppl or None) of one llama.cpp run."""
    if path.endswith(".json"):
        rows = json.load(open(path))
        return statistics.median(rows[0]["samples_ts"]), None
    text = open(path, errors="replace").read()
    m = re.search(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens", text)
    p = re.search(r"Final estimate: PPL = ([\d.]+)", text)
    if not m or not p:
        sys.exit(f"bench-peer: {path} has no timing or final estimate; llama-perplexity failed (see the file)")
    return int(m.group(2)) / (float(m.group(1)) / 1000), float(p.group(1))


def sleb(path):
    d = json.load(open(path))
    if "results" in d and d["results"] and "ppl" in d["results"][0]:
        r = d["results"][0]
        return r["tokens_per_second"], r["ppl"]
    dense = next(r for r in d["results"] if r["variant"] == "dense")
    return dense["tokens_per_second_median"], None


def machine():
    name = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        if m:
            name = m.group(1).strip()
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores"


def build():
    """The commit the figures come from, '+local changes' when src/ or pom.xml differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "pom.xml"], capture_output=True, text=True, check=True).stdout.strip()
        return head + (" +local changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def spread(values):
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def main():
    if sys.argv[1:] == ["--print-build"]:
        print(build())
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--chunks", type=int, required=True)
    ap.add_argument("--md")
    ap.add_argument("--build", help="the commit measured, as --print-build gave it when the run started")
    a = ap.parse_args()
    rows, lines = [], []
    for proto, label in PROTOCOLS:
        for dt in sorted({os.path.basename(p).split("-")[1] for p in glob.glob(f"{a.dir}/sleb-*-{proto}-*")}):
            ours, theirs, ratios, ppls = [], [], [], []
            for r in range(1, a.rounds + 1):
                ext = "txt" if proto == "ppl" else "json"
                t, tp = llamacpp(f"{a.dir}/llamacpp-{dt}-{proto}-{r}.{ext}")
                s, sp = sleb(f"{a.dir}/sleb-{dt}-{proto}-{r}.json")
                theirs.append(t)
                ours.append(s)
                ratios.append(s / t)
                if tp is not None:
                    ppls.append((tp, sp))
            check = ""
            if ppls:
                tp, sp = ppls[-1]
                check = f"PPL llama.cpp {tp:.4f}, SLEB-J {sp:.4f} (rel. diff {abs(sp - tp) / tp:.1e})"
            rows.append((label, dt, spread(theirs), spread(ours), ratios, check))
    date = datetime.date.today().isoformat()
    host = machine()
    head = (f"SLEB-J against llama.cpp, side by side: {host}, {a.threads} threads, {a.rounds} alternating rounds, {date}\n"
            f"{'protocol':38s} {'dtype':5s} {'llama.cpp tok/s':>22s} {'SLEB-J tok/s':>22s}  SLEB-J / llama.cpp median (min-max), per round")
    print(head)
    for label, dt, t, s, ratios, check in rows:
        per = ", ".join(f"{x:.2f}" for x in ratios)
        print(f"{label:38s} {dt:5s} {t:>22s} {s:>22s}  {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}): {per}" + (f"  [{check}]" if check else ""))
    measured = a.build or build()
    if a.build and build() != a.build:
        measured += f" (src changed during the run: now {build()})"
    cmd = f"make bench-peer` at `{measured}"
    md = [f"| {date} | {host} | {a.threads} | {label} | {dt} | {t} | {s} | **{statistics.median(r):.2f}x** ({min(r):.2f}-{max(r):.2f}) | {a.rounds} | `{cmd}`{'; ' + check if check else ''} |"
          for label, dt, t, s, r, check in rows]
    with open(f"{a.dir}/summary.md", "w") as f:
        f.write(head + "\n\n" + "\n".join(md) + "\n")
    if not md:
        sys.exit("bench-peer: no results to summarize (PEER_ROUNDS or PEER_DTYPES empty?)")
    if a.md and os.path.exists(a.md):
        text = open(a.md).read()
        marker = "<!-- rows:peer -->"
        if marker in text:
            text = text.replace(marker, "\n".join(md) + "\n" + marker)
            tmp = a.md + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, a.md)
            print(f"rows inserted into {a.md}", file=sys.stderr)
        else:
            print(f"bench-peer: {a.md} has no '{marker}' line; rows left in {a.dir}/summary.md", file=sys.stderr)


if __name__ == "__main__":
    main()

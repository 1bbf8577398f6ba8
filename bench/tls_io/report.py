# SPDX-License-Identifier: MIT
"""The table of bench/tls_io/run.sh, from its runs file.

Each line of the runs file: round mode body req/s MB/s us/req server-cores other-cores.
"""
import statistics
import sys

KEYS = ("round", "mode", "body", "rps", "mbs", "us", "cpu", "other")
runs = [dict(zip(KEYS, line.split())) for line in open(sys.argv[1]) if line.strip()]


def vals(mode, body, key):
    return [float(r[key]) for r in runs if r["mode"] == mode and r["body"] == body]


def med(mode, body, key):
    return statistics.median(vals(mode, body, key))


def spread(mode, body, key):
    v = vals(mode, body, key)
    return (max(v) - min(v)) / statistics.median(v) * 100


def paired(body, key):
    """direct / bufferevent within each round (two runs next to each other in time), median over
    the rounds: steadier than the ratio of the medians when the machine's speed drifts."""
    by = {(r["round"], r["mode"]): float(r[key]) for r in runs if r["body"] == body}
    rounds = sorted({k[0] for k in by})
    return statistics.median(by[(n, "direct")] / by[(n, "bufferevent")] for n in rounds)


def size(b):
    b = int(b)
    return f"{b // 1024} KiB" if b % 1024 == 0 else f"{b} B"


print(f"{'body':<8} {'mode':<12} {'req/s':>8} {'MB/s':>7} {'CPU us/req':>10} {'server CPU':>10}"
      "   spread req/s, us/req   other load")
for body in dict.fromkeys(r["body"] for r in runs):
    for mode in ("bufferevent", "direct"):
        print(f"{size(body):<8} {mode:<12} {med(mode, body, 'rps'):>8.0f} "
              f"{med(mode, body, 'mbs'):>7.1f} {med(mode, body, 'us'):>10.1f} "
              f"{med(mode, body, 'cpu') * 100:>9.0f}%   {spread(mode, body, 'rps'):>5.0f}%, "
              f"{spread(mode, body, 'us'):>4.0f}% {max(vals(mode, body, 'other')):>16.2f}")
    print(f"{size(body):<8} {'direct/bev':<12} "
          f"{med('direct', body, 'rps') / med('bufferevent', body, 'rps'):>7.2f}x {'':>7} "
          f"{med('direct', body, 'us') / med('bufferevent', body, 'us'):>9.2f}x")
    print(f"{size(body):<8} {'  paired':<12} {paired(body, 'rps'):>7.2f}x {'':>7} "
          f"{paired(body, 'us'):>9.2f}x")
n = len({r["mode"] + r["body"] for r in runs})
print(f"""
Medians over {len(runs) // n} rounds. direct/bev: ratio of the medians; paired: median over the
rounds of the ratio within a round. CPU us/req: the server's utime + stime per request. server
CPU: its share of CPU 0 (well below 100%: wrk on CPU 1 sets the pace). spread: (max - min) /
median over the rounds. other load: the most CPU, in cores, other processes used during a run.

runs: round mode body req/s MB/s us/req server-cores other-cores""")
for r in runs:
    print("  " + " ".join(r.values()))

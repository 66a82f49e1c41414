"""The masked positions' confidences at step 6 of episode 397, Java (TraceJava) against PyTorch (trace_python.py):
how many differ in their float32 bits, and the largest moves of the log-odds feature ln(c / max(1e-6, 1 - c))."""
import math
import struct
import sys


def parse(path):
    line = next(l for l in open(path) if l.startswith("conf:"))
    return {int(k): int(v) for k, v in (t.split("=") for t in line.split()[1:])}


def as_float(bits):
    return struct.unpack("<f", struct.pack("<i", bits))[0]


def log_odds(c):
    return math.log(c / max(1e-6, 1 - c))


java, torch_ = parse(sys.argv[1]), parse(sys.argv[2])
diff = [(k, as_float(java[k]), as_float(torch_[k]), torch_[k] - java[k]) for k in java if java[k] != torch_[k]]
print(len(java), "masked positions;", len(diff), "differ in their float32 bits")
for k, a, b, ulps in sorted(diff, key=lambda x: -abs(log_odds(x[1]) - log_odds(x[2])))[:5]:
    print(f"position {k}: {a!r} (Java) {b!r} (PyTorch), {ulps:+d} ulps, log-odds {log_odds(a):.4f} against {log_odds(b):.4f}")

"""How many of the Java fast engine's statistics (a DumpFastEngine.java file) the Python ports give bit for bit.

    python3 compare_fast_engine.py MODEL DUMP THREADS

THREADS: OpenBLAS threads for PyTorch (the dump was made with OMP_NUM_THREADS=1). Prints, for the
replica (FastEngineDllm + java_statistics) and for PyTorch's own arithmetic (BuiltinDllm), how many
masked positions differ in confidence, top-1 token and entropy.
"""
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python"))
import torch  # noqa: E402
from unmask_torch import BuiltinDllm, FastEngineDllm  # noqa: E402
from unmask_torch.java_fast import openblas_threads  # noqa: E402

model, dump, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("BLAS:", openblas_threads(threads), "threads:", threads)
lines = Path(dump).read_text().splitlines()
ids = torch.tensor([list(map(int, l.split())) for l in lines[0::2]])
java = [l.split() for l in lines[1::2]]


def as_float(hex_bits: str) -> float:
    return struct.unpack("<f", struct.pack("<I", int(hex_bits, 16)))[0]


for port in (FastEngineDllm(model), BuiltinDllm(model)):
    st = port.statistics(port(ids), port.vocab.mask_id)
    total = conf = top = ent = 0
    for r, row in enumerate(java):
        for i, cell in enumerate(row):
            if cell == "-":
                continue
            c, t, e = cell.split(":")
            total += 1
            conf += as_float(c) != float(st.confidence[r, i])
            top += int(t) != int(st.top1[r, i])
            ent += as_float(e) != float(st.entropy[r, i])
    print(f"{type(port).__name__}: of {total} masked positions, confidence differs at {conf}, top-1 at {top}, entropy at {ent}")

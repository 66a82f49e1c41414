"""sgemm of two OpenBLAS builds on the dLLM's shapes: python3 sgemm_two_openblas.py LIB_A LIB_B (one thread each)."""
import ctypes, numpy as np, sys
libs = {'A': sys.argv[1], 'B': sys.argv[2]}
L = {}
for k, p in libs.items():
    l = ctypes.CDLL(p, mode=ctypes.RTLD_LOCAL)
    L[k] = l
    f = l.openblas_get_config; f.restype = ctypes.c_char_p
    print(k, f())
def sgemm(lib, A, B, alpha=1.0):
    # row-major C = A @ B via cblas
    m, k = A.shape; k2, n = B.shape
    C = np.zeros((m, n), np.float32)
    f = lib.cblas_sgemm
    f.argtypes = [ctypes.c_int]*6 + [ctypes.c_float, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_float, ctypes.c_void_p, ctypes.c_int]
    f(101, 111, 111, m, n, k, alpha, A.ctypes.data, k, B.ctypes.data, n, 0.0, C.ctypes.data, n)
    return C
rng = np.random.default_rng(0)
for (m,k,n) in [(128*8,64,64),(128*64,64,256),(128*64,256,64),(128*64,64,20),(128,16,128),(128,128,16),(8192,64,64)]:
    A = rng.standard_normal((m,k)).astype(np.float32); B = rng.standard_normal((k,n)).astype(np.float32)
    c1 = sgemm(L['A'], A, B); c2 = sgemm(L['B'], A, B)
    print((m,k,n), 'bit-equal frac', np.mean(c1==c2), 'maxdiff', np.abs(c1-c2).max())

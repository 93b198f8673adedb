// Data movement: a strided gather (Transpose, Tile, BroadcastTo, and B's
// transpose before MatMul), by element size, on the bits of the elements.

#define GATHER(BITS, T)                                                         \
  __kernel void gather_##BITS(__global const T* x, __global T* y, long n, gview v) { \
    const long i = get_global_id(0);                                            \
    if (i < n) y[i] = x[gview_offset(&v, i)];                                   \
  }
GATHER(8, uchar)
GATHER(16, ushort)
GATHER(32, uint)
GATHER(64, ulong)

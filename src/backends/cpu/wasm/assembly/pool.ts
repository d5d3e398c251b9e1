// 2-D max pooling of float32 planes (NCHW) without indices: the largest in-bounds tap, NaN skipped;
// a window holding only NaN or -inf gives its first in-bounds tap (as the TypeScript kernel).

export function maxPool2dF32(
  src: usize,
  planes: i32,
  H: i32,
  W: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  dH: i32,
  dW: i32,
  pH: i32,
  pW: i32,
  oH: i32,
  oW: i32,
  dst: usize,
): void {
  const rowB = <usize>W << 2;
  for (let q = 0; q < planes; q++) {
    const plane = src + <usize>q * <usize>H * rowB;
    for (let oh = 0; oh < oH; oh++) {
      const h0 = oh * sH - pH;
      // Window rows [i0, i1) in bounds.
      let i0 = 0;
      while (i0 < kH && h0 + i0 * dH < 0) i0++;
      let i1 = kH;
      while (i1 > i0 && h0 + (i1 - 1) * dH >= H) i1--;
      for (let ow = 0; ow < oW; ow++) {
        const w0 = ow * sW - pW;
        let j0 = 0;
        while (j0 < kW && w0 + j0 * dW < 0) j0++;
        let j1 = kW;
        while (j1 > j0 && w0 + (j1 - 1) * dW >= W) j1--;
        let best: f32 = -Infinity;
        let found = false;
        let first: f32 = 0;
        let any = false;
        for (let i = i0; i < i1; i++) {
          const row = plane + <usize>(h0 + i * dH) * rowB;
          for (let j = j0; j < j1; j++) {
            const v = load<f32>(row + (<usize>(w0 + j * dW) << 2));
            if (!any) {
              first = v;
              any = true;
            }
            if (v > best) {
              best = v;
              found = true;
            }
          }
        }
        if (!found && any) best = first;
        store<f32>(dst, best);
        dst += 4;
      }
    }
  }
}

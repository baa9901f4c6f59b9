#include "kernels/cpu/embedding.h"

namespace coopgen::cpu {

template <class T>
void embedding_forward(T* out, const int32_t* ids, const T* w, const int32_t* pos, const T* p, int64_t n, int64_t dim) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < dim; ++c)
      out[r * dim + c] = w[int64_t(ids[r]) * dim + c] + (pos ? p[int64_t(pos[r]) * dim + c] : T(0));
}
template <class T> void embedding_backward(T* dw, const int32_t* ids, const T* dout, int64_t n, int64_t dim) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < dim; ++c) dw[int64_t(ids[r]) * dim + c] += dout[r * dim + c];
}
template void embedding_forward<float>(float*, const int32_t*, const float*, const int32_t*, const float*, int64_t, int64_t);
template void embedding_forward<double>(double*, const int32_t*, const double*, const int32_t*, const double*, int64_t,
                                        int64_t);
template void embedding_backward<float>(float*, const int32_t*, const float*, int64_t, int64_t);
template void embedding_backward<double>(double*, const int32_t*, const double*, int64_t, int64_t);

}  // namespace coopgen::cpu

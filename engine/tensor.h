// Tensor: a strided view (shape, strides, offset, dtype, device) of shared storage, plus the
// autograd fields. Views (reshape, slice, transpose, permute) share storage and never copy;
// .to(device) and .contiguous() copy explicitly.
//
// Gradient convention: backward() accumulates into the .grad of leaf tensors that require grad
// (parameters), across calls, until zero_grad(); intermediate gradients are never stored.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"

namespace coopgen {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& shape);
int64_t shape_numel(const Shape& shape);

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::CPU;
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct Node;
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape, strides;  // strides in elements
  int64_t offset = 0;    // in elements
  DType dtype = DType::F32;
  Device device = Device::CPU;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // leaves only
  std::shared_ptr<Node> grad_fn;     // set on results of differentiable ops
};

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<bf16>() { return DType::BF16; }

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Creation. Contents of empty() are unspecified (the allocator recycles blocks).
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = Device::CPU);
  template <class T>
  static Tensor from(const std::vector<T>& values, const Shape& shape, Device device = Device::CPU);
  // Uniform [lo, hi) from the Philox stream at (seed, offset): identical on CPU and CUDA.
  static Tensor uniform(const Shape& shape, uint64_t seed, uint64_t offset, double lo = 0,
                        double hi = 1, DType dtype = DType::F32, Device device = Device::CPU);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return int64_t(impl().shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  int64_t offset() const { return impl().offset; }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().device; }
  bool is_contiguous() const;
  bool same_storage(const Tensor& other) const { return impl().storage == other.impl().storage; }

  // Raw element pointer (a device pointer for CUDA tensors); checks the element type.
  template <class T> T* data() const {
    CG_CHECK(dtype() == dtype_of<T>(), "tensor of dtype ", dtype_name(dtype()), " read as ",
             dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // Views (share storage; differentiable).
  Tensor reshape(const Shape& shape) const;  // copies only when the layout does not allow a view
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor permute(const std::vector<int64_t>& order) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end) const;
  // Copies (differentiable).
  Tensor contiguous() const;
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor clone() const;

  template <class T> std::vector<T> to_vector() const;  // contiguous copy on the host
  double item() const;                                  // the value of a one-element tensor

  // Autograd.
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g) { impl().grad = g.impl_; }
  void zero_grad() { impl().grad.reset(); }
  void backward(const Tensor& grad_out = Tensor()) const;
  Tensor detach() const;  // same storage, no history
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  TensorImpl& impl() const {
    CG_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::string describe(const Tensor& t);  // "f32[2,3] cpu"

}  // namespace coopgen

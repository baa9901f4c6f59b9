#include "engine/tensor.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <sstream>

#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/op.h"

namespace coopgen {

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t k = 0; k < shape.size(); ++k) os << (k ? "," : "") << shape[k];
  os << ']';
  return os.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape)  // a product past int64 would wrap to a small size and a short buffer
    if (__builtin_mul_overflow(n, s, &n)) fail("the shape ", shape_str(shape), " holds more than 2^63 elements");
  return n;
}

std::string describe(const Tensor& t) {
  std::ostringstream os;
  os << dtype_name(t.dtype()) << shape_str(t.shape()) << ' ' << device_name(t.device());
  return os.str();
}

Storage::Storage(size_t n, Device d) : nbytes(n), device(d) {
  data = n ? allocator(d).allocate(n) : nullptr;
}
Storage::~Storage() {
  if (data) allocator(device).release(data);
}

static Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    strides[k] = s;
    s *= shape[k];
  }
  return strides;
}

static Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl().storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  impl->device = base.device();
  return Tensor(impl);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) CG_CHECK(s >= 0, "negative dimension in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  size_t bytes = 0;
  if (__builtin_mul_overflow(size_t(shape_numel(shape)), dtype_size(dtype), &bytes))
    fail("the shape ", shape_str(shape), " of ", dtype_name(dtype), " holds more than 2^64 bytes");
  impl->storage = std::make_shared<Storage>(bytes, device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->device = device;
  return Tensor(impl);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  dispatch(op_call<Op::Fill>({}, {t}, {value}));
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

template <class T>
Tensor Tensor::from(const std::vector<T>& values, const Shape& shape, Device device) {
  CG_CHECK(int64_t(values.size()) == shape_numel(shape), "Tensor::from: ", values.size(),
           " values for shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>(), device);
  device::copy(t.raw_data(), device, values.data(), Device::CPU, values.size() * sizeof(T));
  return t;
}
template Tensor Tensor::from(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from(const std::vector<double>&, const Shape&, Device);
template Tensor Tensor::from(const std::vector<int32_t>&, const Shape&, Device);

Tensor Tensor::uniform(const Shape& shape, uint64_t seed, uint64_t offset, double lo, double hi,
                       DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  dispatch(op_call<Op::PhiloxUniform>({}, {t}, {seed, offset, lo, hi}));
  return t;
}

int64_t Tensor::size(int64_t d) const {
  int64_t n = dim();
  if (d < 0) d += n;
  CG_CHECK(d >= 0 && d < n, "dimension ", d, " out of range for ", describe(*this));
  return shape()[size_t(d)];
}

bool Tensor::is_contiguous() const { return strides() == contiguous_strides(shape()); }

void* Tensor::raw_data() const {
  auto& s = impl().storage;
  return s->data ? static_cast<char*>(s->data) + offset() * int64_t(dtype_size(dtype())) : nullptr;
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape shape = new_shape;
  int64_t known = 1, infer = -1;
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == -1) {
      CG_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(new_shape));
      infer = int64_t(k);
    } else {
      known *= shape[k];
    }
  }
  if (infer >= 0) shape[size_t(infer)] = known ? numel() / known : 0;
  CG_CHECK(shape_numel(shape) == numel(), "reshape: cannot view ", describe(*this), " as ",
           shape_str(new_shape));
  if (!is_contiguous()) return contiguous().reshape(shape);
  Tensor out = make_view(*this, shape, contiguous_strides(shape), offset());
  Shape old = this->shape();
  return record(out, "reshape", {*this}, [old](const Tensor& g) -> std::vector<Tensor> {
    return {g.reshape(old)};
  });
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
  CG_CHECK(int64_t(order.size()) == dim(), "permute: ", order.size(), " dims for ", describe(*this));
  Shape shape(order.size()), strides(order.size());
  std::vector<int64_t> inverse(order.size(), -1);
  for (size_t k = 0; k < order.size(); ++k) {
    int64_t d = order[k] < 0 ? order[k] + dim() : order[k];
    CG_CHECK(d >= 0 && d < dim() && inverse[size_t(d)] < 0, "permute: bad order for ", describe(*this));
    inverse[size_t(d)] = int64_t(k);
    shape[k] = this->shape()[size_t(d)];
    strides[k] = this->strides()[size_t(d)];
  }
  Tensor out = make_view(*this, shape, strides, offset());
  return record(out, "permute", {*this}, [inverse](const Tensor& g) -> std::vector<Tensor> {
    return {g.permute(inverse)};
  });
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  std::vector<int64_t> order(static_cast<size_t>(dim()));
  std::iota(order.begin(), order.end(), 0);
  if (d0 < 0) d0 += dim();
  if (d1 < 0) d1 += dim();
  CG_CHECK(d0 >= 0 && d0 < dim() && d1 >= 0 && d1 < dim(), "transpose: dims out of range for ",
           describe(*this));
  std::swap(order[size_t(d0)], order[size_t(d1)]);
  return permute(order);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end) const {
  if (d < 0) d += dim();
  CG_CHECK(d >= 0 && d < dim(), "slice: dim out of range for ", describe(*this));
  CG_CHECK(0 <= start && start <= end && end <= size(d), "slice [", start, ",", end, ") of dim ",
           d, " of ", describe(*this));
  Shape shape = this->shape();
  shape[size_t(d)] = end - start;
  Tensor out = make_view(*this, shape, strides(), offset() + start * strides()[size_t(d)]);
  Shape full_shape = this->shape();
  return record(out, "slice", {*this}, [full_shape, d, start, end](const Tensor& g) -> std::vector<Tensor> {
    Tensor gin = Tensor::zeros(full_shape, g.dtype(), g.device());
    dispatch(op_call<Op::Copy>({g}, {gin.slice(d, start, end)}));
    return {gin};
  });
}

static Tensor copy_as(const Tensor& src, DType dtype) {
  Tensor out = Tensor::empty(src.shape(), dtype, src.device());
  dispatch(op_call<Op::Copy>({src}, {out}));
  return out;
}

Tensor Tensor::clone() const {
  return record(copy_as(*this, dtype()), "clone", {*this},
                [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  DType from = dtype();
  return record(copy_as(*this, t), "to(dtype)", {*this},
                [from](const Tensor& g) -> std::vector<Tensor> { return {g.to(from)}; });
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor src = contiguous();
  Tensor out = empty(shape(), dtype(), d);
  device::copy(out.raw_data(), d, src.raw_data(), src.device(), size_t(numel()) * dtype_size(dtype()));
  Device from = device();
  return record(out, "to(device)", {*this},
                [from](const Tensor& g) -> std::vector<Tensor> { return {g.to(from)}; });
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor src = contiguous();
  CG_CHECK(src.dtype() == dtype_of<T>(), "to_vector: tensor is ", describe(src));
  std::vector<T> out(static_cast<size_t>(numel()));
  device::copy(out.data(), Device::CPU, src.raw_data(), src.device(), out.size() * sizeof(T));
  return out;
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<bf16> Tensor::to_vector() const;

double Tensor::item() const {
  CG_CHECK(numel() == 1, "item() of ", describe(*this));
  switch (dtype()) {
    case DType::F32: return double(to_vector<float>()[0]);
    case DType::F64: return to_vector<double>()[0];
    case DType::BF16: return double(bf16_to_float(to_vector<bf16>()[0]));
    case DType::I32: return double(to_vector<int32_t>()[0]);
  }
  return 0;
}

Tensor& Tensor::requires_grad_(bool on) {
  CG_CHECK(!on || dtype() == DType::F32 || dtype() == DType::F64 || dtype() == DType::BF16,
           "requires_grad on a non-float tensor ", describe(*this));
  CG_CHECK(!grad_fn(), "requires_grad_() on a non-leaf tensor; use detach() first");
  impl().requires_grad = on;
  return *this;
}

void Tensor::backward(const Tensor& grad_out) const { run_backward(*this, grad_out); }

Tensor Tensor::detach() const {
  return make_view(*this, shape(), strides(), offset());
}

}  // namespace coopgen

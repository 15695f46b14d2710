#include "kernels/mlx_affine.h"

#include <string>

namespace silica {
namespace {

bool IsScaleDType(DType d) {
  return d == DType::kF16 || d == DType::kBF16 || d == DType::kF32;
}

uint64_t ElemBytes(DType d) { return d == DType::kF32 ? 4 : 2; }

}  // namespace

Result<MlxAffineShape> ValidateMlxAffine(const MlxAffineView& w) {
  if (w.bits != 4 && w.bits != 8) {
    return Unimplemented("mlx affine: " + std::to_string(w.bits) +
                         "-bit weights are not supported (4 and 8 are)");
  }
  if (w.group_size != 32 && w.group_size != 64 && w.group_size != 128) {
    return InvalidArgument("mlx affine: group size " +
                           std::to_string(w.group_size) +
                           " (must be 32, 64 or 128)");
  }
  if (w.packed.dtype != DType::kU32 || w.packed.shape.rank != 2) {
    return InvalidArgument("mlx affine: packed weights must be u32 [n, k*bits/32], got " +
                           std::string(DTypeName(w.packed.dtype)) + " " +
                           w.packed.shape.ToString());
  }
  const int64_t n = w.packed.shape[0];
  const int64_t words = w.packed.shape[1];
  if (n < 0 || words < 0 || words > (int64_t{1} << 40) / 8) {
    return InvalidArgument("mlx affine: bad packed shape " +
                           w.packed.shape.ToString());
  }
  const int64_t k = words * (32 / w.bits);
  if (k % w.group_size != 0) {
    return InvalidArgument("mlx affine: row of " + std::to_string(k) +
                           " elements is not a whole number of groups of " +
                           std::to_string(w.group_size));
  }
  const int64_t groups = k / w.group_size;
  for (const TensorView* t : {&w.scales, &w.biases}) {
    const char* what = t == &w.scales ? "scales" : "biases";
    if (!IsScaleDType(t->dtype) || t->shape.rank != 2 || t->shape[0] != n ||
        t->shape[1] != groups) {
      return InvalidArgument(std::string("mlx affine: ") + what +
                             " must be f16/bf16/f32 [" + std::to_string(n) +
                             ", " + std::to_string(groups) + "], got " +
                             std::string(DTypeName(t->dtype)) + " " +
                             t->shape.ToString());
    }
    if (t->nbytes != static_cast<uint64_t>(n * groups) * ElemBytes(t->dtype) ||
        (t->data == nullptr && t->nbytes != 0)) {
      return InvalidArgument(std::string("mlx affine: ") + what +
                             " byte size does not match the shape");
    }
  }
  if (w.scales.dtype != w.biases.dtype) {
    return InvalidArgument("mlx affine: scales and biases differ in dtype");
  }
  if (w.packed.nbytes != static_cast<uint64_t>(n * words) * 4 ||
      (w.packed.data == nullptr && w.packed.nbytes != 0)) {
    return InvalidArgument("mlx affine: packed byte size does not match the shape");
  }
  if (w.packed.device != Device::kCpu || w.scales.device != Device::kCpu ||
      w.biases.device != Device::kCpu) {
    return InvalidArgument("mlx affine: tensors must be in CPU memory");
  }
  return MlxAffineShape{n, k};
}

}  // namespace silica

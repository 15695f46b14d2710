#include "core/tensor_view.h"

namespace silica {

int64_t Shape::NumElements() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= dims[i];
  return n;
}

std::string Shape::ToString() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] != o.dims[i]) return false;
  }
  return true;
}

int64_t TensorView::Rows() const {
  int64_t r = 1;
  for (int i = 0; i + 1 < shape.rank; ++i) r *= shape.dims[i];
  return r;
}

int64_t TensorView::RowElems() const {
  return shape.rank == 0 ? 1 : shape.dims[shape.rank - 1];
}

uint64_t TensorView::RowBytes() const {
  const int64_t rows = Rows();
  return rows > 0 ? nbytes / static_cast<uint64_t>(rows) : 0;
}

}  // namespace silica

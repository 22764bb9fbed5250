#pragma once
// Where each value of an entry function lives at run time: which rows it has (how many follows
// from the step: its tokens, keys, head rows, ...), and whether it owns a buffer or is a window
// of another value's buffer or of a cache. Lowering (view or copy?), memory planning (sizes and
// lifetimes) and the artifact emitter (kernel operands) all read it, so they cannot disagree.
#include "dialects/fathom/FathomDialect.h"
#include "fathom/runtime/DType.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <cstdint>

namespace mlir::fathom {

// The rows of a value at run time: count(extent) x multiplier.
enum class RowExtent {
  Tokens,   // batch x tokens of this call
  Keys,     // batch x keys (cached and new)
  HeadRows, // the head_rows input's length
  Batch,    // one per sequence
  Fixed,    // `multiplier` rows whatever the step
  ImageRows, // the image_embeddings input's length (at most every position)
};

struct Rows {
  RowExtent extent = RowExtent::Tokens;
  int64_t multiplier = 1;
};

struct ValueLayout {
  Rows rows;
  // The storage: `base` (a value owning a buffer: itself when ownsBuffer) or `cache`.
  Value base;
  FlatSymbolRefAttr cache;
  ::fathom::DType storage = ::fathom::DType::F32;
  int64_t rowStride = 0; // elements between rows of a sequence (the storage's row width)
  int64_t offset = 0;    // elements from the row start
  int64_t heads = 1, headDim = 0, headStride = 0;
  bool ownsBuffer() const { return !cache && base == ownValue; }
  Value ownValue; // the value this layout describes
};

// Elements per row of a value that owns its storage: the product of the dims after the row
// dims ([batch, seq, ...] or [rows, ...]; a static 1-D tensor is one row).
int64_t rowElements(RankedTensorType type);
// The runtime dtype of an element type (i1 is stored as a byte, Bool).
FailureOr<::fathom::DType> storageDType(Type elementType);

class LayoutAnalysis {
public:
  // Fails (reporting on the op) when a value's rows or storage cannot be determined.
  static FailureOr<LayoutAnalysis> compute(func::FuncOp function);

  const ValueLayout& of(Value value) const;
  // merge_heads of heads that are not packed needs a copy; everything else this analysis calls
  // a view is one.
  bool mergeIsView(MergeHeadsOp op) const;

private:
  LogicalResult add(Value value, ValueLayout layout);
  LogicalResult visit(Operation* op);
  FailureOr<Rows> rowsOfResult(Operation* op, unsigned result) const;

  llvm::DenseMap<Value, ValueLayout> layouts_;
};

// How many rows a value may hold at the module's limits (max_batch, max_seq_len) in an entry
// point that takes up to `maxTokens` tokens per sequence.
int64_t maxRows(const Rows& rows, int64_t maxBatch, int64_t maxSeqLen, int64_t maxTokens);

} // namespace mlir::fathom

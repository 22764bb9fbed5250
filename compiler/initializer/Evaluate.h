#pragma once
// Evaluates the module's initializer one derived param at a time, on the host: the artifact
// writer asks for a param while it streams the weights, so memory holds only the tensors that
// one definition reads, never the model.
#include "dialects/fathom/FathomDialect.h"
#include "fathom/runtime/DType.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringMap.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

namespace fathom::compiler {

struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<std::byte> bytes;

  int64_t numel() const;
};

// Reads a checkpoint param as the module stores it (converted to its type).
using SourceReader = std::function<HostTensor(mlir::fathom::ParamOp)>;

class InitializerEvaluator {
public:
  InitializerEvaluator(mlir::ModuleOp module, SourceReader readSource);

  // The value of a derived param (no source). Throws fathom::Error naming the param when its
  // definition is missing or cannot be evaluated.
  HostTensor evaluate(mlir::fathom::ParamOp param);

  // A derived param's definition cut into values whose bytes follow one another in the param:
  // the inputs of a dim-0 concatenation (through reshapes, which move no bytes), else the whole
  // definition. The artifact writer evaluates one piece at a time, so a stack of expert
  // matrices never sits in memory at once.
  std::vector<mlir::Value> pieces(mlir::fathom::ParamOp param);
  HostTensor evaluate(mlir::Value piece);

  // Sharded modules (fathom-shard): the rank whose weights are evaluated (0 until set), and
  // whether a param's value differs between ranks (its definition reads a shard op).
  void setRank(int64_t rank);
  bool rankDependent(mlir::fathom::ParamOp param);

private:
  mlir::Value definitionOf(mlir::fathom::ParamOp param);
  HostTensor value(mlir::Value value, std::vector<std::pair<mlir::Value, HostTensor>>& memo);
  HostTensor read(mlir::fathom::ParamOp param);

  mlir::ModuleOp module_;
  mlir::SymbolTable symbols_;
  SourceReader readSource_;
  // The other results of the quantizations evaluated, until each is asked for.
  std::vector<std::pair<mlir::Value, HostTensor>> siblings_;
  int64_t rank_ = 0;
  llvm::StringMap<bool> rankDependent_;
  llvm::StringMap<mlir::Value> definitions_;
  bool definitionsIndexed_ = false;
};

// The runtime dtype of a builtin element type (passes/Layout.h storageDType); throws for the
// ones artifacts cannot hold.
DType dtypeOfElement(mlir::Type element);

} // namespace fathom::compiler

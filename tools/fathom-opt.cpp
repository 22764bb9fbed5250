// fathom-opt: mlir-opt with the fathom dialect, Fathom's passes and the upstream dialects the
// model builder and lowering use.
#include "compiler/pipeline/Pipeline.h"
#include "dialects/fathom/FathomDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include "common/Version.h"

int main(int argc, char** argv) {
  llvm::cl::AddExtraVersionPrinter(
      [](llvm::raw_ostream& out) { out << fathom::tools::versionLine("fathom-opt") << "\n"; });
  mlir::registerTransformsPasses();
  mlir::fathom::registerFathomPasses();
  mlir::fathom::registerFathomPipeline();
  mlir::DialectRegistry registry;
  registry.insert<mlir::fathom::FathomDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Fathom optimizer driver\n", registry));
}
